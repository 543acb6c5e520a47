import type { Logger } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { roomStream } from '../../src/domain/events.js';
import type { EventStore } from '../../src/eventStore/eventStore.js';
import { createMemoryEventStore } from '../../src/eventStore/memoryEventStore.js';
import { startRetention } from '../../src/retention/job.js';
import type { RoomTrimmer } from '../../src/retention/roomTrimmer.js';
import { dropsStreamPrefixes, retentionStrategyOf } from '../../src/retention/strategy.js';

/*
 * The retention job picks its strategy from the store's declared capability alone; the room side
 * is a fake RoomTrimmer that records its calls and appends the trim as the real one does (the
 * count cut, decided by the room itself, is taken from the stream's posts here).
 */
function fakeTrimmer(store: EventStore) {
  const calls: Array<[string, ...unknown[]]> = [];
  const trimmer: RoomTrimmer = {
    async trimHistory(roomId, beforeSeq, options) {
      calls.push(['trimHistory', roomId, beforeSeq, options]);
      if (options?.keepMessages !== undefined) {
        const posts = (await store.readStream(roomStream(roomId))).filter((e) => e.type === 'MessagePosted').map((e) => e.revision);
        if (posts.length > options.keepMessages) beforeSeq = Math.max(beforeSeq, posts.at(-options.keepMessages)!);
      }
      const data = { roomId, beforeSeq };
      await store.append(roomStream(roomId), [{ id: `trim-${roomId}-${beforeSeq}`, type: 'HistoryTrimmed', data }], { expectedRevision: 'any' });
      return beforeSeq;
    },
    async carryRoomForward(roomId, keepLast) {
      calls.push(['carryRoomForward', roomId, keepLast]);
    },
  };
  return { trimmer, calls };
}

/** Room r: created, one join, then `posts` messages (revisions 3..posts + 2). */
async function busyRoom(store: EventStore, posts: number) {
  const events = [
    { id: 'c', type: 'RoomCreated', data: {} },
    { id: 'j', type: 'MemberJoined', data: {} },
    ...Array.from({ length: posts }, (_, i) => ({ id: `p${i}`, type: 'MessagePosted', data: {} })),
  ];
  await store.append(roomStream('r'), events, { expectedRevision: 0 });
}

const log = () => ({ info: vi.fn(), warn: vi.fn() }) as unknown as Logger & { info: ReturnType<typeof vi.fn>; warn: ReturnType<typeof vi.fn> };
const jobs: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const job of jobs.splice(0)) await job.stop();
});

describe('the retention strategy of a store', () => {
  it('follows the capability it declares: deleting wins, metadata means prefixes go, neither keeps all', () => {
    const deleting = createMemoryEventStore({ retention: 'deleteOldEvents' });
    const metadata = createMemoryEventStore();
    const { setStreamRetention: _, ...neither } = createMemoryEventStore();
    expect(retentionStrategyOf(deleting).kind).toBe('deleteOldEvents');
    expect(retentionStrategyOf(metadata).kind).toBe('streamMetadata');
    expect(retentionStrategyOf(neither).kind).toBe('none');
    const both = { ...deleting, setStreamRetention: metadata.setStreamRetention };
    expect(retentionStrategyOf(both).kind).toBe('deleteOldEvents');
    expect([deleting, metadata, neither].map(dropsStreamPrefixes)).toEqual([false, true, false]);
  });
});

describe('the retention job', () => {
  it('on a deleting store: records the cut in the room, then deletes the messages below it', async () => {
    const store = createMemoryEventStore({ retention: 'deleteOldEvents' });
    await busyRoom(store, 10);
    const { trimmer, calls } = fakeTrimmer(store);
    const job = startRetention({ store, trimmer, roomIds: async () => ['r'], policy: { maxCount: 5, intervalMs: 60_000 }, log: log() });
    jobs.push(job);
    // Posts at 3..12, keep the newest 5: messages below 8 go (revisions 3..7); structure stays.
    expect(await job.runOnce()).toBe(5);
    expect(calls).toEqual([['trimHistory', 'r', 1, { keepMessages: 5 }]]);
    expect((await store.readStream(roomStream('r'))).map((e) => e.revision)).toEqual([1, 2, 8, 9, 10, 11, 12, 13]);
  });

  it('on a metadata store: carries the room forward once, then lets $maxCount cut', async () => {
    const store = createMemoryEventStore();
    await busyRoom(store, 10);
    const { trimmer, calls } = fakeTrimmer(store);
    const job = startRetention({ store, trimmer, roomIds: async () => ['r'], policy: { maxCount: 5, intervalMs: 60_000 }, log: log() });
    jobs.push(job);
    expect(await job.runOnce()).toBe(0);
    expect(await job.runOnce()).toBe(0);
    expect(calls).toEqual([['carryRoomForward', 'r', 5]]);
    expect((await store.readStream(roomStream('r'))).map((e) => e.revision)).toEqual([8, 9, 10, 11, 12]);
  });

  it('on a metadata store, by age: appends a snapshot-carrying trim and moves the stream start to it', async () => {
    const store = createMemoryEventStore();
    await busyRoom(store, 3);
    const { trimmer, calls } = fakeTrimmer(store);
    // Every event is older than a millisecond by the time the job looks (they are stamped now).
    await new Promise((resolve) => setTimeout(resolve, 5));
    const job = startRetention({ store, trimmer, roomIds: async () => ['r'], policy: { maxAgeMs: 1, intervalMs: 60_000 }, log: log() });
    jobs.push(job);
    expect(await job.runOnce()).toBe(1);
    expect(calls).toEqual([['trimHistory', 'r', 6, { carrySnapshot: true }]]);
    expect((await store.readStream(roomStream('r'))).map((e) => [e.revision, e.type])).toEqual([[6, 'HistoryTrimmed']]);
  });

  it('on a store with neither capability: removes nothing and says so once', async () => {
    const { setStreamRetention: _, ...store } = createMemoryEventStore();
    const { trimmer, calls } = fakeTrimmer(store);
    const logger = log();
    const job = startRetention({ store, trimmer, roomIds: async () => ['r'], policy: { maxCount: 5, intervalMs: 60_000 }, log: logger });
    jobs.push(job);
    expect(await job.runOnce()).toBe(0);
    expect(await job.runOnce()).toBe(0);
    expect(calls).toEqual([]);
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });
});
