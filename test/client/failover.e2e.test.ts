/**
 * The client library across a cluster (two or three nodes, one SQLite log, a private Redis):
 * the node a client is on is killed (SIGKILL) in the middle of a stream; the client reconnects to
 * another node and its iterator goes on with exactly the missing events; sends made while its
 * node was gone (and sends in flight when it died) are stored exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../client/src/index.js';
import { startChatNodes, type ChatNodes } from '../support/chatNodes.js';
import { killAllNodes } from '../support/nodeProcess.js';
import { stopAllRedis } from '../support/redisServer.js';
import { waitFor } from '../support/signals.js';
import { assertContiguous, bodies, closeAllClients, collectUntil, newUser, sleep } from './helpers.js';

let cluster: ChatNodes;
const fastBackoff = { backoff: { initialMs: 100, maxMs: 1_000 } };

beforeAll(async () => {
  cluster = await startChatNodes(2, { RATE_LIMIT_MESSAGES: '0' });
});
afterAll(stopAllRedis);
afterAll(killAllNodes);
afterAll(closeAllClients);

/** Sends `count` messages `${prefix}${i}` one after another, `gapMs` apart. */
async function stream(send: (body: string) => Promise<unknown>, prefix: string, count: number, gapMs: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await send(`${prefix}${i}`);
    // Part of the scenario: a steady stream the kill lands in the middle of.
    await sleep(gapMs);
  }
}

function expectExactlyOnce(events: RoomEvent[], expected: string[]): void {
  assertContiguous(events);
  expect(events[0]!.seq).toBe(1);
  const got = bodies(events);
  expect(new Set(got).size).toBe(got.length);
  expect([...got].sort()).toEqual([...expected].sort());
}

describe('failover between nodes', () => {
  it('goes on from another node with exactly the missing events; sends around the kill arrive once', async () => {
    const [a, b] = cluster.nodes as [ChatNodes['nodes'][0], ChatNodes['nodes'][0]];
    const { client: reader } = await newUser([a.url, b.url], 'reader', fastBackoff);
    const { client: writer } = await newUser([b.url], 'writer', fastBackoff);
    const room = await reader.createRoom('failover');
    await writer.joinRoom(room.id);
    const statuses: string[] = [];
    reader.onStatus((status) => statuses.push(status));

    const events = reader.roomEvents(room.id, { afterSeq: 0 });
    const got = await collectUntil(events, (e) => e.length >= 3); // created, reader joined, writer joined
    expect(reader.url).toBe(a.url);

    const writing = stream((body) => writer.send(room.id, body), 'w', 120, 15);
    await collectUntil(events, (e) => bodies(e).length >= 30, 20_000, got);

    // In flight when the node dies, then sent while it is gone.
    const inFlight = Array.from({ length: 5 }, (_, i) => reader.send(room.id, `f${i}`));
    await a.kill();
    const during = Array.from({ length: 5 }, (_, i) => reader.send(room.id, `d${i}`));
    await Promise.all([writing, ...inFlight, ...during]);

    const expected = [...Array.from({ length: 120 }, (_, i) => `w${i}`), ...Array.from({ length: 5 }, (_, i) => `f${i}`), ...Array.from({ length: 5 }, (_, i) => `d${i}`)];
    await collectUntil(events, (e) => bodies(e).length >= expected.length, 30_000, got);
    // Under test: nothing more arrives in this window (no late duplicate).
    await sleep(500);
    expectExactlyOnce(got.slice(), expected);
    expect(reader.url).toBe(b.url);
    expect(statuses).toContain('reconnecting');
    expect(reader.status).toBe('connected');
    // The room's head agrees once the read models have caught up (the dead node may have held
    // the projector lease; another node takes it over when it expires).
    const caughtUp = Date.now();
    await waitFor(async () => (await writer.room(room.id))?.headSeq === got.at(-1)!.seq, 30_000, 'the read models caught up', 50).catch(() => {});
    console.log(`read models caught up ${Date.now() - caughtUp} ms after the reader had every event`);
    expect((await writer.room(room.id))?.headSeq).toBe(got.at(-1)!.seq);
    await events.return!();
  });

  it('follows a URL chooser (e.g. a registry of live nodes) when its node dies', async () => {
    const c = await cluster.addNode();
    const b = cluster.nodes[1]!;
    let registry = b.url;
    const chosen: string[] = [];
    const { client: reader } = await newUser(b.url, 'chooser', {
      ...fastBackoff,
      url: undefined,
      chooseUrl: () => {
        chosen.push(registry);
        return registry;
      },
    });
    const { client: writer } = await newUser([c.url], 'writer2', fastBackoff);
    const room = await reader.createRoom('chooser');
    await writer.joinRoom(room.id);
    const events = reader.roomEvents(room.id, { afterSeq: 0 });
    const got = await collectUntil(events, (e) => e.length >= 3);

    const writing = stream((body) => writer.send(room.id, body), 'm', 60, 15);
    await collectUntil(events, (e) => bodies(e).length >= 20, 20_000, got);
    registry = c.url;
    await b.kill();
    await writing;

    await collectUntil(events, (e) => bodies(e).length >= 60, 30_000, got);
    // Under test: nothing more arrives in this window (no late duplicate).
    await sleep(300);
    expectExactlyOnce(got.slice(), Array.from({ length: 60 }, (_, i) => `m${i}`));
    expect(chosen[0]).toBe(b.url);
    expect(chosen.at(-1)).toBe(c.url);
    expect(reader.url).toBe(c.url);
    await events.return!();
  });
});
