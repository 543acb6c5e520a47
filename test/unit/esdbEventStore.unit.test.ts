import { randomUUID } from 'node:crypto';
import { ANY, DeadlineExceededError, NO_STREAM, START, UnavailableError, WrongExpectedVersionError } from '@eventstore/db-client';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { EventStoreUnavailableError, StreamDeletedError, WrongExpectedRevisionError, type NewEvent, type StoredEvent } from '../../src/eventStore/eventStore.js';
import {
  createEsdbEventStore,
  esdbPosition,
  expectedRevisionForEsdb,
  mapEsdbError,
  retentionMetadata,
  seqOfRevision,
} from '../../src/eventStore/esdbEventStore.js';
import { createFakeEsdbClient, createFakeEsdbServer, type FakeEsdbClient } from '../support/fakeEsdbClient.js';
import { until } from '../contracts/eventStore.contract.js';
import { createRoomCommandHandler } from '../../src/commandHandling/roomCommandHandler.js';
import { roomStream } from '../../src/domain/events.js';
import type { RoomCommand } from '../../src/domain/room.js';
import { alice } from './fixtures.js';

/*
 * No EventStoreDB server can run on this machine. The adapter is checked here against the
 * faithful fake of @eventstore/db-client 6.2.1 and the server (test/support/fakeEsdbClient.ts,
 * which cites the client's source for each behaviour), one test per finding of issue 13; the whole
 * contract suite runs on the same fake in test/contracts/eventStore.esdbFake.int.test.ts, and
 * against a real server when EVENTSTORE_URL is set (eventStore.esdb.int.test.ts).
 */
const posted = (n = 0, data: unknown = { n }): NewEvent => ({ id: randomUUID(), type: 'MessagePosted', data });
const opened = (options: Parameters<typeof createFakeEsdbClient>[0] = {}) => {
  const client = createFakeEsdbClient(options);
  return { client, server: client.server, store: createEsdbEventStore({ client, resubscribeDelayMs: 5 }) };
};

describe('EventStoreDB mapping', () => {
  it('maps stream revisions (from 0) to seqs (from 1) and back for expected revisions', () => {
    expect(seqOfRevision(0n)).toBe(1);
    expect(seqOfRevision(41n)).toBe(42);
    expect(expectedRevisionForEsdb(0)).toBe(NO_STREAM);
    expect(expectedRevisionForEsdb(1)).toBe(0n);
    expect(expectedRevisionForEsdb(42)).toBe(41n);
    expect(expectedRevisionForEsdb('any')).toBe(ANY);
  });

  it('resumes after a position exclusively, from the start for 0', () => {
    expect(esdbPosition(0)).toBe(START);
    expect(esdbPosition(1234)).toEqual({ commit: 1234n, prepare: 1234n });
  });

  it('maps WrongExpectedVersion to the port error, with seqs', () => {
    const esdb = new WrongExpectedVersionError(undefined, { streamName: 'room-a', expected: 4n, current: 6n });
    const mapped = mapEsdbError(esdb, 'room-a', 5);
    expect(mapped).toBeInstanceOf(WrongExpectedRevisionError);
    expect(mapped).toMatchObject({ stream: 'room-a', expected: 5, actual: 7 });
    const missing = mapEsdbError(new WrongExpectedVersionError(undefined, { streamName: 'room-b', expected: 0n, current: NO_STREAM }), 'room-b', 1);
    expect(missing).toMatchObject({ actual: 0 });
    const other = new Error('unavailable');
    expect(mapEsdbError(other, 'room-a', 1)).toBe(other);
  });
});


describe('EventStoreDB retention through stream metadata', () => {
  it('maps truncateBefore (a seq) to $tb (a revision), only forwards, keeps other metadata, and reports no change as null', () => {
    const acl = { readRoles: ['$all'] };
    expect(retentionMetadata({}, { truncateBefore: 11 })).toEqual({ truncateBefore: 10 });
    expect(retentionMetadata({ acl, truncateBefore: 10 }, { truncateBefore: 4 })).toBeNull();
    expect(retentionMetadata({ acl, truncateBefore: 10 }, { truncateBefore: 21 })).toEqual({ acl, truncateBefore: 20 });
    expect(retentionMetadata({ truncateBefore: 10 }, { maxCount: 500 })).toEqual({ truncateBefore: 10, maxCount: 500 });
    expect(retentionMetadata({ maxCount: 500 }, { maxCount: 500 })).toBeNull();
    expect(retentionMetadata({ maxCount: 500, maxAge: 60 }, { maxCount: null })).toEqual({ maxAge: 60 });
    expect(retentionMetadata({}, { truncateBefore: 1 })).toBeNull();
  });

});

describe('finding 1: every retention-metadata write after the first', () => {
  it('the fake answers getStreamMetadata as client 6.2.1 does: metastreamRevision is a log position', async () => {
    const { client, store } = opened();
    await store.append('room-a', [posted()], { expectedRevision: 0 });
    await store.setStreamRetention('room-a', { maxCount: 5 });
    const { metastreamRevision } = await client.getStreamMetadata('room-a');
    // The metastream has one event (revision 0); the client reports its commit position instead.
    expect(metastreamRevision).toBeGreaterThan(0n);
  });

  it('moves $tb again and again, with $maxCount set too, expecting the metastream revision', async () => {
    const { client, server, store } = opened();
    await store.append('room-a', Array.from({ length: 10 }, (_, i) => posted(i)), { expectedRevision: 0 });
    await store.setStreamRetention('room-a', { maxCount: 8 });
    await store.setStreamRetention('room-a', { truncateBefore: 4 });
    await store.setStreamRetention('room-a', { truncateBefore: 6 });
    expect(server.streams.get('$$room-a')!.events.map((e) => e.data)).toEqual([{ $maxCount: 8 }, { $maxCount: 8, $tb: 3 }, { $maxCount: 8, $tb: 5 }]);
    expect((await store.readStream('room-a')).map((e) => e.revision)).toEqual([6, 7, 8, 9, 10]);
    expect(client.calls.setStreamMetadata).toBe(3);
  });

  it('keeps other metadata (an ACL) as stored, and redoes a write another node raced', async () => {
    const { client, server, store } = opened();
    await store.append('room-a', [posted()], { expectedRevision: 0 });
    await client.setStreamMetadata('room-a', { acl: { readRoles: ['$admins'] } });
    const setStreamMetadata = client.setStreamMetadata.bind(client);
    let raced = false;
    client.setStreamMetadata = (async (...args: Parameters<typeof setStreamMetadata>) => {
      if (!raced) {
        raced = true;
        await setStreamMetadata('room-a', { acl: { readRoles: ['$admins'] }, maxCount: 100 }, { expectedRevision: 0n });
      }
      return setStreamMetadata(...args);
    }) as typeof setStreamMetadata;
    await store.setStreamRetention('room-a', { truncateBefore: 1_000 });
    expect(server.streams.get('$$room-a')!.events.at(-1)!.data).toEqual({ $acl: { $r: ['$admins'] }, $maxCount: 100, $tb: 999 });
  });
});

describe('finding 2: reads of $all, which holds much besides room events', () => {
  it('finds the newest room event behind thousands of metadata, system and foreign events', async () => {
    const { server, store } = opened();
    const { position } = await store.append('room-a', [posted()], { expectedRevision: 0 });
    for (let i = 0; i < 2_100; i++) server.write(i % 2 ? `$$room-x${i}` : `orders-${i}`, i % 2 ? '$metadata' : 'OrderPlaced', { $tb: i });
    expect(await store.headPosition()).toBe(position);
  });

  it('reads on past raw windows without room events, and fills the limit when room events are sparse', async () => {
    const { server, store } = opened();
    const first = await store.append('room-a', [posted()], { expectedRevision: 0 });
    // The first retention run over 2,000 idle rooms: 2,000 metadata events and nothing else.
    for (let i = 0; i < 2_500; i++) server.write(`$$room-idle${i}`, '$metadata', { $maxCount: 100 });
    const next = await store.append('room-a', [posted()], { expectedRevision: 1 });
    expect(await store.readAll({ afterPosition: first.position })).toEqual(next.events);
    for (let i = 0; i < 30; i++) {
      await store.append('room-b', [posted()], { expectedRevision: 'any' });
      for (let j = 0; j < 50; j++) server.write('orders-1', 'OrderPlaced', { j });
    }
    expect(await store.readAll({ limit: 25 })).toHaveLength(25);
    expect(await store.readAll()).toHaveLength(32);
  });
});

describe('finding 3: a read left early is cancelled', () => {
  it('holds no call open on the server after reads that stop before the end', async () => {
    const { server, store } = opened();
    for (let i = 0; i < 10; i++) await store.append('room-a', Array.from({ length: 20 }, (_, j) => posted(j)), { expectedRevision: 'any' });
    expect(await store.readAll({ limit: 20 })).toHaveLength(20);
    expect(await store.readAll({ afterPosition: 1, limit: 3 })).toHaveLength(3);
    await store.headPosition();
    await store.streamRevision('room-a');
    await store.readStream('room-a', { limit: 2 });
    expect(server.openCalls.size).toBe(0);
  });

  it('so a hundred early exits do not stall the next call (HTTP/2 allows 100 streams per connection)', async () => {
    const { store } = opened();
    for (let i = 0; i < 10; i++) await store.append('room-a', Array.from({ length: 20 }, (_, j) => posted(j)), { expectedRevision: 'any' });
    for (let i = 0; i < 110; i++) await store.readAll({ limit: 20 });
    const append = store.append('room-a', [posted()], { expectedRevision: 200 });
    const stalled = Symbol('stalled');
    expect(await Promise.race([append.then((r) => r.revision), delay(1_000).then(() => stalled)])).toBe(201);
  });
});

describe('finding 4: event ids on EventStoreDB', () => {
  it('answers a repeated append with the original events (positions and times as stored), storing nothing', async () => {
    const { server, store } = opened();
    server.clockSkewMs = 60_000;
    const sent = [posted(1), posted(2)];
    const original = await store.append('room-a', sent, { expectedRevision: 0 });
    const repeat = await store.append('room-a', sent, { expectedRevision: 0 });
    expect(repeat).toEqual(original);
    expect(await store.readStream('room-a')).toEqual(original.events);
  });
});

describe('finding 4: what the application needs, enforced above the store', () => {
  // Two nodes (two room command handlers) on one server: ESDB checks no ids, so a resend must be
  // kept single by the room (a known messageId appends nothing) and by the expected revision.
  const post = (clientMessageId: string): RoomCommand => ({ type: 'PostMessage', author: alice, clientMessageId, body: clientMessageId });
  const twoNodes = async () => {
    const server = createFakeEsdbServer();
    const [here, there] = [0, 1].map(() => createRoomCommandHandler(createEsdbEventStore({ client: createFakeEsdbClient({ server }) })));
    await here!.execute('r', () => ({ type: 'CreateRoom', roomId: 'r', name: 'room', passwordHash: null, by: alice }));
    await there!.load('r');
    const posts = () => [...server.streams.get(roomStream('r'))!.events].filter((e) => e.type === 'MessagePosted').map((e) => (e.data as { clientMessageId: string }).clientMessageId);
    return { here: here!, there: there!, posts };
  };

  it('a resend racing its original on another node is stored once', async () => {
    const { here, there, posts } = await twoNodes();
    await Promise.all([here.execute('r', () => post('m1')), there.execute('r', () => post('m1'))]);
    expect(posts()).toEqual(['m1']);
  });

  it('a resend decided on a stale node, in one batch with a new post, is stored once and the new post too', async () => {
    const { here, there, posts } = await twoNodes();
    await here.execute('r', () => post('m1'));
    // `there` has not seen m1: its batch [m1 again, m2] expects the revision before m1.
    await Promise.all([there.execute('r', () => post('m1')), there.execute('r', () => post('m2'))]);
    await there.execute('r', () => post('m1'));
    expect(posts()).toEqual(['m1', 'm2']);
  });
});

describe('finding 5: the subscription', () => {
  it('stops for good when onEvent throws: reported once, not restarted, the server call ended', async () => {
    const { client, server, store } = opened();
    const errors: unknown[] = [];
    const failure = new Error('projection failed');
    store.subscribeToAll({ afterPosition: 0, onEvent: () => Promise.reject(failure), onError: (error) => errors.push(error) });
    await store.append('room-a', [posted(), posted()], { expectedRevision: 0 });
    await until(() => errors.length === 1);
    await delay(100);
    expect(errors).toEqual([failure]);
    expect(client.calls.subscribeToAll).toBe(1);
    expect(server.openCalls.size).toBe(0);
    await store.close();
  });

  it('resubscribes after a transport error without telling the consumer, from where it was, once', async () => {
    const logged: unknown[] = [];
    const client = createFakeEsdbClient();
    const store = createEsdbEventStore({ client, resubscribeDelayMs: 5, onError: (error) => logged.push(error) });
    const received: StoredEvent[] = [];
    const errors: unknown[] = [];
    store.subscribeToAll({ afterPosition: 0, onEvent: (e) => void received.push(e), onError: (error) => errors.push(error) });
    const first = await store.append('room-a', [posted(), posted()], { expectedRevision: 0 });
    await until(() => received.length === 2);
    client.server.dropSubscriptions();
    const second = await store.append('room-a', [posted()], { expectedRevision: 2 });
    await until(() => received.length === 3);
    await delay(50);
    expect(received).toEqual([...first.events, ...second.events]);
    expect(errors).toEqual([]);
    expect(logged).toHaveLength(1);
    expect(client.calls.subscribeToAll).toBe(2);
    expect(client.server.subscriptions.size).toBe(1);
    await store.close();
    expect(client.server.openCalls.size).toBe(0);
  });
});

describe('finding 7: appends, close, errors', () => {
  it('stores an append over the 1 MiB maximum append size, in parts, with contiguous revisions', async () => {
    const { store } = opened();
    const big = Array.from({ length: 5 }, (_, i) => posted(i, { body: 'x'.repeat(400_000) }));
    const result = await store.append('room-a', big, { expectedRevision: 0 });
    expect(result.events.map((e) => e.revision)).toEqual([1, 2, 3, 4, 5]);
    expect((await store.readStream('room-a')).map((e) => e.id)).toEqual(big.map((e) => e.id));
    const tooBig = store.append('room-a', [posted(0, { body: 'x'.repeat(1_100_000) })], { expectedRevision: 5 });
    await expect(tooBig).rejects.toThrow(/maximum append size/);
  });

  it("returns each event's own position and the server's time, as reads do", async () => {
    const { server, store } = opened();
    server.clockSkewMs = 60_000;
    const result = await store.append('room-a', [posted(1), posted(2), posted(3)], { expectedRevision: 0 });
    expect(new Set(result.events.map((e) => e.position)).size).toBe(3);
    expect(result.events).toEqual(await store.readStream('room-a'));
    expect(result.position).toBe(result.events[2]!.position);
  });

  it('closes at once, even while a subscription waits to resubscribe, and closes the channel', async () => {
    const client = createFakeEsdbClient();
    const store = createEsdbEventStore({ client, resubscribeDelayMs: 5_000 });
    store.subscribeToAll({ afterPosition: 0, onEvent: () => {} });
    await delay(10);
    client.server.dropSubscriptions();
    await delay(10);
    const started = Date.now();
    await store.close();
    expect(Date.now() - started).toBeLessThan(500);
    expect(client.channelClosed).toBe(true);
    expect(await store.ping()).toBe(false);
    // A store never used has no channel, and making one to close it could mean a gossip discovery.
    const unused = createFakeEsdbClient();
    await createEsdbEventStore({ client: unused }).close();
    expect([unused.channelClosed, unused.calls.dispose]).toEqual([false, 1]);
  });

  it('treats a resolved failure (throwOnAppendFailure=false) as the conflict it is', async () => {
    const { store } = opened({ throwOnAppendFailure: false });
    await store.append('room-a', [posted(), posted()], { expectedRevision: 0 });
    const error = await store.append('room-a', [posted()], { expectedRevision: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongExpectedRevisionError);
    expect(error).toMatchObject({ expected: 1, actual: 2 });
    expect(await store.streamRevision('room-a')).toBe(2);
  });

  it('maps a deleted stream: appends fail with StreamDeletedError, reads are empty', async () => {
    const { server, store } = opened();
    await store.append('room-a', [posted()], { expectedRevision: 0 });
    server.tombstone('room-a');
    await expect(store.append('room-a', [posted()], { expectedRevision: 1 })).rejects.toBeInstanceOf(StreamDeletedError);
    expect(await store.readStream('room-a')).toEqual([]);
  });

  it('a server that does not answer is EventStoreUnavailableError (UNAVAILABLE to clients) on every call, as for the other stores', async () => {
    const { server, store } = opened();
    await store.append('room-a', [posted()], { expectedRevision: 0 });
    for (const cause of [new UnavailableError(undefined, '14 UNAVAILABLE: No connection established'), new DeadlineExceededError(undefined, '4 DEADLINE_EXCEEDED: Deadline exceeded')]) {
      server.unreachable = cause;
      const calls = {
        append: store.append('room-a', [posted()], { expectedRevision: 1 }),
        readStream: store.readStream('room-a'),
        streamRevision: store.streamRevision('room-a'),
        readAll: store.readAll({ limit: 10 }),
        headPosition: store.headPosition(),
        streamRetention: store.streamRetention('room-a'),
      };
      for (const [name, call] of Object.entries(calls)) {
        const error = await call.then(() => null, (e: unknown) => e);
        expect(error, name).toBeInstanceOf(EventStoreUnavailableError);
        expect((error as EventStoreUnavailableError).cause, name).toBe(cause);
      }
    }
    server.unreachable = null;
    expect(await store.streamRevision('room-a')).toBe(1);
  });
});
