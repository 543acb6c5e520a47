/**
 * Redis with failover (issue 16): two nodes whose REDIS_URL names a Sentinel set (a master, its
 * replica, three sentinels, all child processes), steady sends on both, and the master killed
 * with SIGKILL, or hung with SIGSTOP and resumed after the failover. Every acknowledged send is in the log exactly once and in the order it was
 * acknowledged; a subscriber on each node gets the room exactly once, in order, without a gap;
 * sends go on being acknowledged; and afterwards every Redis part works on the promoted replica:
 * the broker (cross-node delivery live, with the head poll made too slow to stand in for it), the
 * read models and the projector lease (the projected head catches up), the limits, announcements.
 * Prints how long no send was acknowledged.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { createRoom, createUser, eventually, joinRoom, readLog, roomHead, sleep, type MessageInfo } from '../support/gql.js';
import { killAllNodes, type NodeHandle } from '../support/nodeProcess.js';
import { RoomFollower, accountDelivery, nodeId, percentile, problemLines, sendUntilAcked, startCluster, type Cluster } from '../support/cluster.js';
import { fields, startSentinelSet, stopAllSentinelSets, type SentinelSet } from '../support/sentinelSet.js';

let cluster: Cluster | undefined;
afterAll(async () => {
  // A test that failed midway leaves its cluster here.
  const problems = problemLines(cluster?.nodes ?? []);
  if (problems.length) console.log(`node log lines at level ≥ 40:\n${problems.join('\n')}`);
  await killAllNodes();
  await stopAllSentinelSets();
});

interface Ack {
  sender: string;
  message: MessageInfo;
  ackAt: number;
  tries: number;
}

/** Longest time without any acknowledgement inside [from, to], given the ack times. */
function longestSilence(ackTimes: number[], from: number, to: number): { ms: number; from: number; to: number } {
  const times = [from, ...ackTimes.filter((t) => t > from && t < to).sort((x, y) => x - y), to];
  let best = { ms: 0, from, to: from };
  for (let i = 1; i < times.length; i++) if (times[i]! - times[i - 1]! > best.ms) best = { ms: times[i]! - times[i - 1]!, from: times[i - 1]!, to: times[i]! };
  return best;
}

it('the Redis master killed under steady sends: nothing lost, duplicated or reordered; sends acknowledged throughout; every Redis part on the new master', { timeout: 120_000 }, () =>
  failover('kill'),
);

it('the Redis master hung (SIGSTOP: its connections stay open) and back later as a replica: the same', { timeout: 150_000 }, () => failover('pause'));

/**
 * `kill`: SIGKILL, the connections close at once. `pause`: SIGSTOP, nothing closes, so only the
 * sentinels' +switch-master tells the connections to leave; the old master is resumed after the
 * failover, the sentinels turn it into a replica, and the sends go on (a connection still on it
 * would get READONLY).
 */
async function failover(fault: 'kill' | 'pause'): Promise<void> {
  const set: SentinelSet = await startSentinelSet({ downAfterMs: 1_000, failoverTimeoutMs: 5_000 });
  expect(await set.masterPort()).toBe(set.master.port);
  cluster = await startCluster({
    nodes: 2,
    redis: set.master,
    name: 's',
    env: {
      REDIS_URL: set.url,
      // Limits on (kept in Redis) but never reached; the head poll slow enough that cross-node
      // delivery after the failover can only come through the broker.
      RATE_LIMIT_MESSAGES: '100000',
      RATE_LIMIT_WINDOW_MS: '10000',
      HEAD_CHECK_INTERVAL_MS: '60000',
    },
  });
  const [a, b] = cluster.nodes as [NodeHandle, NodeHandle];
  const alice = await createUser(a.url, 'alice');
  const bob = await createUser(b.url, 'bob');
  const room = await createRoom(a.url, alice.token, 'through a failover');
  await joinRoom(b.url, bob.token, room.id);
  const after = await roomHead(a.url, alice.token, room.id);

  const onA = new RoomFollower(alice.token, room.id);
  const onB = new RoomFollower(bob.token, room.id);
  await onA.connect(a, after);
  await onB.connect(b, after);

  // Steady sends: one sender per node, each the next as soon as the last is acknowledged (+20 ms).
  const acks: Ack[] = [];
  let sending = true;
  const sender = async (node: NodeHandle, token: string, name: string) => {
    for (let i = 0; sending; i++) {
      const acked = await sendUntilAcked({ first: node, next: (failed) => failed, token, roomId: room.id, body: `${name} ${i}`, clientMessageId: randomUUID(), deadline: Date.now() + 30_000 });
      acks.push({ sender: name, message: acked.message, ackAt: acked.ackAt, tries: acked.attempts.length });
      await sleep(20);
    }
  };
  const senders = Promise.all([sender(a, alice.token, 'alice'), sender(b, bob.token, 'bob')]);

  await sleep(3_000);
  const beforeKill = acks.length;
  const killedAt = Date.now();
  if (fault === 'kill') await set.master.kill();
  else set.master.pause();
  // Under test: the sentinels promote the replica (down after 1 s, then a vote).
  await eventually(async () => (await set.masterPort()) === set.replica.port, 30_000, 'the replica promoted', 100);
  const switchedAt = Date.now();
  await set.command(set.replica.port, 'CONFIG', 'RESETSTAT');
  const ackedAtSwitch = acks.length;
  // Go on until both senders have had several seconds on the new master.
  await eventually(() => acks.length >= ackedAtSwitch + 40 && Date.now() - switchedAt >= 5_000, 30_000, 'sends acknowledged after the failover');
  if (fault === 'pause') {
    // The old master wakes up believing it is the master; the sentinels make it a replica of the new one.
    set.master.resume();
    const resumedAt = Date.now();
    await eventually(async () => fields(await set.command(set.master.port, 'INFO', 'replication')).role === 'slave', 30_000, 'the old master turned replica', 200);
    const ackedAtDemotion = acks.length;
    await eventually(() => acks.length >= ackedAtDemotion + 20, 20_000, 'sends acknowledged after the old master came back');
    console.log(`old master resumed; a replica again ${Date.now() - resumedAt} ms later; sends went on (${acks.length - ackedAtDemotion} since)`);
  }
  sending = false;
  await senders;
  const endedAt = Date.now();

  const silence = longestSilence(
    acks.map((ack) => ack.ackAt),
    killedAt,
    endedAt,
  );
  const perSender = ['alice', 'bob'].map((name) => {
    const own = longestSilence(
      acks.filter((ack) => ack.sender === name).map((ack) => ack.ackAt),
      killedAt,
      endedAt,
    );
    return `${name} ${own.ms} ms`;
  });
  const retried = acks.filter((ack) => ack.tries > 1);
  console.log(
    `sentinel failover (${fault}): master ${fault === 'kill' ? 'killed' : 'paused'} after ${beforeKill} acknowledged sends; replica promoted ${switchedAt - killedAt} ms after the fault; ` +
      `${acks.length - beforeKill} sends acknowledged from the fault on (${acks.length - ackedAtSwitch} after the promotion); ` +
      `longest time without an acknowledged send: ${silence.ms} ms (from ${silence.from - killedAt} to ${silence.to - killedAt} ms after the fault; per sender: ${perSender.join(', ')}); ` +
      `${retried.length} sends needed a retry`,
  );

  // Probe the broker on the new master: sends on one node, each must reach the other node's
  // subscriber live (the head poll is 60 s; a broker that did not follow would show here).
  const probes: Array<{ from: string; ms: number }> = [];
  for (const [node, token, watcher] of [
    [a, alice.token, onB],
    [b, bob.token, onA],
  ] as const) {
    for (let i = 0; i < 5; i++) {
      const acked = await sendUntilAcked({ first: node, next: (failed) => failed, token, roomId: room.id, body: `probe ${i} via ${nodeId(node)}`, clientMessageId: randomUUID(), deadline: Date.now() + 10_000 });
      acks.push({ sender: `probe-${nodeId(node)}`, message: acked.message, ackAt: acked.ackAt, tries: acked.attempts.length });
      // 10 s: far below the 60 s head poll, so a probe that arrives came through the broker.
      await watcher.waitForSeq(acked.message.seq, 10_000).catch((error: Error) => {
        throw new Error(`probe ${i} from ${nodeId(node)} (seq ${acked.message.seq}) not delivered on ${nodeId(watcher.node!)}: ${error.message}\n${problemLines(cluster!.nodes).join('\n')}`);
      });
      probes.push({ from: nodeId(node), ms: Date.now() - acked.ackAt });
    }
  }
  console.log(`cross-node delivery on the new master, ack → receipt: p50 ${percentile(probes.map((p) => p.ms), 50)} ms, max ${Math.max(...probes.map((p) => p.ms))} ms`);
  expect(Math.max(...probes.map((p) => p.ms)), 'live through the broker, not the 60 s head poll').toBeLessThan(3_000);

  // The log: every acknowledged send once, at the seq it was acknowledged with, in the order each sender got its acks.
  const log = await readLog(a.url, alice.token, room.id, after);
  const head = log.at(-1)!.seq;
  const posted = log.filter((event) => event.__typename === 'MessagePosted');
  const byClientId = new Map<string, number[]>();
  for (const event of posted) {
    const id = (event as { message?: { clientMessageId: string } }).message!.clientMessageId;
    byClientId.set(id, [...(byClientId.get(id) ?? []), event.seq]);
  }
  const notOnce = acks.filter((ack) => byClientId.get(ack.message.clientMessageId)?.length !== 1);
  expect(notOnce.map((ack) => `${ack.message.clientMessageId}: ${JSON.stringify(byClientId.get(ack.message.clientMessageId))}`)).toEqual([]);
  for (const ack of acks) expect(byClientId.get(ack.message.clientMessageId)).toEqual([ack.message.seq]);
  for (const name of ['alice', 'bob']) {
    const seqs = acks.filter((ack) => ack.sender === name).map((ack) => ack.message.seq);
    expect(seqs, `${name}'s acknowledged seqs ascend`).toEqual([...seqs].sort((x, y) => x - y));
  }
  expect(posted.length, 'nothing in the log that was not acknowledged').toBe(acks.length);
  expect(log.map((event) => event.seq)).toEqual(Array.from({ length: head - after }, (_, i) => after + 1 + i));

  // Each subscriber: exactly (after, head], ascending, once; no socket closed by the failover.
  for (const follower of [onA, onB]) await follower.waitForSeq(head, 10_000);
  await sleep(300);
  for (const follower of [onA, onB]) {
    const delivery = accountDelivery(follower.seqs, after, head);
    console.log(`subscriber on ${nodeId(follower.node!)}: ${JSON.stringify({ expected: delivery.expected, delivered: delivery.delivered, lost: delivery.lost, duplicated: delivery.duplicated, outOfOrder: delivery.outOfOrder })}`);
    expect(delivery).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(follower.failures).toEqual([]);
    expect(follower.closes).toEqual([]);
    follower.close();
  }

  // The read models (written by the lease holder on the new master) catch up on both nodes.
  for (const [node, token] of [
    [a, alice.token],
    [b, bob.token],
  ] as const) {
    await eventually(async () => (await roomHead(node.url, token, room.id)) === head, 15_000, `the projected head on ${nodeId(node)}`);
    const ready = (await (await fetch(`${node.url}/readyz`)).json()) as { redis?: string };
    expect(ready.redis, `${nodeId(node)} reports Redis`).toBe('ok');
  }

  // Every part reached the new master: commands counted there since the promotion.
  const stats = String(await set.command(set.replica.port, 'INFO', 'commandstats'));
  const calls = (command: string) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  const seen = {
    publish: calls('publish'),
    subscribe: calls('subscribe'),
    evals: calls('eval') + calls('evalsha'),
    transactions: calls('exec'),
    sets: calls('set'),
  };
  console.log(`commands on the new master since the promotion: ${JSON.stringify(seen)}`);
  expect(seen.publish, 'broker publishers').toBeGreaterThan(0);
  expect(seen.subscribe, 'broker subscribers re-subscribed').toBeGreaterThan(0);
  expect(seen.evals, 'limits (scripts)').toBeGreaterThan(0);
  expect(seen.transactions, 'read-model writes (fenced transactions)').toBeGreaterThan(0);
  const keys = (await set.command(set.replica.port, 'KEYS', 'roomlog:nodes:*')) as string[];
  expect(keys.sort(), 'both nodes announce themselves on the new master').toEqual(['roomlog:nodes:s1', 'roomlog:nodes:s2']);

  const problems = problemLines(cluster.nodes);
  if (problems.length) console.log(`node log lines at level ≥ 40 (${fault}):\n${problems.join('\n')}`);
  for (const node of cluster.live()) expect(await node.stop()).toBe(0);
  cluster = undefined;
  await set.stop();
}
