import { ANY, NO_STREAM, START, StreamNotFoundError, WrongExpectedVersionError } from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import { DuplicateEventIdError, WrongExpectedRevisionError, type StoredEvent } from '../../src/eventStore/eventStore.js';
import {
  createEsdbEventStore,
  esdbPosition,
  expectedRevisionForEsdb,
  mapEsdbError,
  resilientSubscription,
  retentionMetadata,
  seqOfRevision,
  type EsdbClient,
} from '../../src/eventStore/esdbEventStore.js';

/*
 * No EventStoreDB server can run on this machine, so what can be checked without one is checked
 * here, with the client faked at its edge (the methods the adapter calls). The same contract suite
 * as the other adapters runs against a real server when EVENTSTORE_URL is set
 * (test/contracts/eventStore.esdb.int.test.ts).
 */
const recorded = (stream: string, revision: number, position: number, type = 'MessageEdited') => ({
  event: {
    streamId: stream,
    id: `id-${stream}-${revision}`,
    isJson: true,
    type,
    data: { roomId: stream.slice(5), n: revision },
    revision: BigInt(revision),
    position: { commit: BigInt(position), prepare: BigInt(position) },
    created: new Date(1_700_000_000_000 + position),
    metadata: undefined,
  },
});

async function* iterate<T>(items: T[], thenThrow?: unknown) {
  for (const item of items) yield item;
  if (thenThrow) throw thenThrow;
}

function fakeClient(overrides: Partial<Record<keyof EsdbClient, unknown>>): EsdbClient {
  return { dispose: async () => {}, ...overrides } as unknown as EsdbClient;
}

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

describe('EventStoreDB adapter with a faked client', () => {
  it('reads a missing stream as empty (ESDB throws StreamNotFound while iterating)', async () => {
    const store = createEsdbEventStore({
      client: fakeClient({ readStream: () => iterate([], new StreamNotFoundError(undefined, 'room-x')) }),
    });
    expect(await store.readStream('room-x')).toEqual([]);
    expect(await store.streamRevision('room-x')).toBe(0);
  });

  it('reads a stream with seqs from 1, and asks ESDB for revision seq-1', async () => {
    const asked: unknown[] = [];
    const store = createEsdbEventStore({
      client: fakeClient({
        readStream: (_stream: string, options: unknown) => {
          asked.push(options);
          return iterate([recorded('room-a', 2, 300), recorded('room-a', 3, 400)]);
        },
      }),
    });
    const events = await store.readStream('room-a', { fromRevision: 3, limit: 2 });
    expect(events.map((e) => [e.revision, e.position, e.stream])).toEqual([
      [3, 300, 'room-a'],
      [4, 400, 'room-a'],
    ]);
    expect(asked[0]).toMatchObject({ fromRevision: 2n, maxCount: 2, direction: 'forwards' });
  });

  it('maps a racing append to WrongExpectedRevisionError', async () => {
    const store = createEsdbEventStore({
      client: fakeClient({
        appendToStream: async () => {
          throw new WrongExpectedVersionError(undefined, { streamName: 'room-a', expected: 1n, current: 2n });
        },
      }),
    });
    await expect(store.append('room-a', [{ id: 'e', type: 'T', data: {} }], { expectedRevision: 2 })).rejects.toMatchObject({
      name: 'WrongExpectedRevisionError',
      expected: 2,
      actual: 3,
    });
  });

  it('reports an append ESDB recognised as a repeat (stream did not move) as DuplicateEventIdError', async () => {
    const store = createEsdbEventStore({
      client: fakeClient({ appendToStream: async () => ({ success: true, nextExpectedRevision: 4n, position: { commit: 9n, prepare: 9n } }) }),
    });
    // Expected 5 (ESDB revision 4) + 1 event should end at 6; ESDB says the stream is still at 5.
    await expect(store.append('room-a', [{ id: 'same', type: 'T', data: {} }], { expectedRevision: 5 })).rejects.toBeInstanceOf(
      DuplicateEventIdError,
    );
  });

  it('returns the new revision and seqs of an accepted append', async () => {
    const store = createEsdbEventStore({
      client: fakeClient({ appendToStream: async () => ({ success: true, nextExpectedRevision: 6n, position: { commit: 900n, prepare: 900n } }) }),
    });
    const result = await store.append('room-a', [1, 2].map((n) => ({ id: `e${n}`, type: 'T', data: { n } })), { expectedRevision: 5 });
    expect(result).toMatchObject({ revision: 7, position: 900 });
    expect(result.events.map((e) => e.revision)).toEqual([6, 7]);
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

  it('writes metadata against the metastream revision it read, retries on a race, and skips a write that changes nothing', async () => {
    const writes: Array<{ stream: string; metadata: unknown; expectedRevision: unknown }> = [];
    let metastream: { metadata?: Record<string, unknown>; metastreamRevision?: bigint } = {};
    let raceOnce = true;
    const store = createEsdbEventStore({
      client: fakeClient({
        getStreamMetadata: async () => metastream,
        setStreamMetadata: async (stream: string, metadata: Record<string, unknown>, options: { expectedRevision: unknown }) => {
          if (raceOnce) {
            // Another node set maxCount in between: the write must be redone on top of it.
            raceOnce = false;
            metastream = { metadata: { maxCount: 100 }, metastreamRevision: 0n };
            throw new WrongExpectedVersionError(undefined, { streamName: `$$${stream}`, expected: -1n, current: 0n });
          }
          writes.push({ stream, metadata, expectedRevision: options.expectedRevision });
          metastream = { metadata, metastreamRevision: (metastream.metastreamRevision ?? -1n) + 1n };
        },
      }),
    });
    await store.setStreamRetention('room-a', { truncateBefore: 8 });
    expect(writes).toEqual([{ stream: 'room-a', metadata: { maxCount: 100, truncateBefore: 7 }, expectedRevision: 0n }]);
    await store.setStreamRetention('room-a', { truncateBefore: 8, maxCount: 100 });
    expect(writes).toHaveLength(1);
  });
});

describe('EventStoreDB subscription: filter, checkpoint, resubscribe', () => {
  it('subscribes with the room- prefix filter, resubscribes from the last delivered position after an error, and skips repeats', async () => {
    const calls: Array<{ fromPosition: unknown; filter: unknown }> = [];
    const client = fakeClient({
      subscribeToAll: (options: { fromPosition: unknown; filter: unknown }) => {
        calls.push(options);
        const generator =
          calls.length === 1
            ? iterate([recorded('room-a', 0, 100), recorded('room-b', 0, 200)], new Error('connection reset'))
            : // The server may send the checkpoint's event again after a reconnect.
              iterate([recorded('room-b', 0, 200), recorded('room-a', 1, 300)]);
        return Object.assign(generator, { unsubscribe: async () => {} });
      },
    });
    const delivered: StoredEvent[] = [];
    const errors: unknown[] = [];
    const subscription = resilientSubscription({
      client,
      prefix: 'room-',
      afterPosition: 50,
      onEvent: (event) => void delivered.push(event),
      onError: (error) => errors.push(error),
      delayMs: 5,
    });
    const deadline = Date.now() + 2_000;
    while (delivered.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await subscription.close();
    expect(delivered.map((e) => e.position)).toEqual([100, 200, 300]);
    expect(calls[0]!.fromPosition).toEqual({ commit: 50n, prepare: 50n });
    expect(calls[1]!.fromPosition).toEqual({ commit: 200n, prepare: 200n });
    expect(JSON.stringify(calls[0]!.filter)).toContain('room-');
    expect(String(errors[0])).toContain('connection reset');
  });
});
