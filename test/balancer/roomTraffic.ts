/**
 * Room traffic through a balancer for the failover tests: followers that resume through the
 * balancer (whatever node it then picks) with afterSeq, a paced sender that retries with the same
 * clientMessageId until acknowledged, and the final accounting (nothing lost, duplicated or
 * reordered, every acknowledged send in the log once).
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { createRoom, createUser, joinRoom, pool, readLog, roomHead, sleep, type UserSession } from '../support/gql.js';
import type { NodeHandle } from '../support/nodeProcess.js';
import { RoomFollower, accountDelivery, ranges, sendUntilAcked, type Acked } from '../support/cluster.js';

export interface RoomTraffic {
  owner: UserSession;
  roomId: string;
  followers: RoomFollower[];
}

/**
 * A room with `count` members, each following it from seq 0 through `target()` (called again on
 * every resume, so a restarted balancer's new handle is used).
 */
export async function followersThrough(target: () => NodeHandle, count: number): Promise<RoomTraffic> {
  const owner = await createUser(target().url, 'owner');
  const roomId = (await createRoom(target().url, owner.token, 'through the balancer')).id;
  const followers = await pool(count, 10, async (i) => {
    const user = await createUser(target().url, `follower-${i}`);
    await joinRoom(target().url, user.token, roomId);
    return new RoomFollower(user.token, roomId, () => target());
  });
  await pool(count, 10, (i) => followers[i]!.connect(target(), 0));
  // Every follower has caught up with the joins before anything is sent.
  const head = await roomHead(target().url, owner.token, roomId);
  await Promise.all(followers.map((f) => f.waitForSeq(head, 20_000)));
  return { owner, roomId, followers };
}

/** Sends `count` messages one every `everyMs`, each retried (same clientMessageId) until acknowledged. */
export async function sendPaced(traffic: RoomTraffic, target: () => NodeHandle, count: number, everyMs: number): Promise<Acked[]> {
  const deadline = Date.now() + count * everyMs + 60_000;
  const sends: Array<Promise<Acked>> = [];
  for (let i = 0; i < count; i++) {
    sends.push(
      sendUntilAcked({
        first: target(),
        next: () => target(),
        token: traffic.owner.token,
        roomId: traffic.roomId,
        body: `message ${i}`,
        clientMessageId: randomUUID(),
        deadline,
      }),
    );
    // Part of the scenario: the send rate the faults happen under.
    await sleep(everyMs);
  }
  return Promise.all(sends);
}

/**
 * Resolves once every follower holds `more` events past the highest seq any of them held when
 * called: the explicit "traffic is flowing through" signal a fault waits for before it strikes.
 */
export async function trafficFlowing(traffic: RoomTraffic, more: number, timeoutMs = 30_000): Promise<void> {
  const from = Math.max(...traffic.followers.map((f) => f.lastSeq));
  await Promise.all(traffic.followers.map((f) => f.waitForSeq(from + more, timeoutMs)));
}

/** Every follower got exactly (0, head], in order, once; the log holds every acknowledged send once. */
export async function expectNothingLost(traffic: RoomTraffic, target: () => NodeHandle, acked: Acked[]): Promise<number> {
  const head = await roomHead(target().url, traffic.owner.token, traffic.roomId);
  expect(head).toBe(2 + traffic.followers.length + acked.length); // RoomCreated, joins, messages
  await Promise.all(traffic.followers.map((f) => f.waitForSeq(head, 30_000)));
  for (const [index, follower] of traffic.followers.entries()) {
    const delivery = accountDelivery(follower.seqs, 0, head);
    const where = `follower ${index} (closes ${JSON.stringify(follower.closes.map((c) => c.code))}, failures ${follower.failures.slice(-3).join(' | ')})`;
    expect(delivery.missing, `lost by ${where}: ${ranges(delivery.missing)}`).toEqual([]);
    expect(delivery.duplicates, `duplicated to ${where}`).toEqual([]);
    expect(delivery.misordered, `out of order for ${where}`).toEqual([]);
  }
  const log = await readLog(target().url, traffic.owner.token, traffic.roomId);
  const inLog = log.filter((e) => e.__typename === 'MessagePosted').map((e) => e.message!.clientMessageId);
  expect(new Set(inLog).size).toBe(inLog.length);
  expect(inLog.sort()).toEqual(acked.map((a) => a.message.clientMessageId).sort());
  return head;
}
