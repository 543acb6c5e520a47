import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createMemoryBroker } from '../../src/broker/memoryBroker.js';
import { trimHistory } from '../../src/chat/commands/trimHistory.js';
import { createRoomCommandHandler } from '../../src/commandHandling/roomCommandHandler.js';
import { roomStream } from '../../src/domain/events.js';
import { createMemoryEventStore } from '../../src/eventStore/memoryEventStore.js';
import { createMetrics } from '../../src/metrics.js';
import { deleteOldEvents } from '../../src/retention/deleteOldEvents.js';
import type { RetentionPolicy } from '../../src/retention/policy.js';
import { alice, created, joined, posted } from './fixtures.js';

/**
 * Retention by count on a store that deletes old events (SQLite's strategy): a run records its
 * cut as a HistoryTrimmed event, which takes a seq of its own. The next run over an idle room
 * must not count that seq as history and cut again: a quiet room would lose a message and gain
 * an event on every run, for ever.
 */
async function roomWithMessages(messages: number) {
  const store = createMemoryEventStore({ retention: 'deleteOldEvents' });
  const commands = createRoomCommandHandler(store);
  const broker = createMemoryBroker();
  const trimmer = {
    trimHistory: trimHistory({ commands, metrics: createMetrics('retention-idle'), broker, progress: { waitFor: async () => {}, rewind: () => {} }, consistency: { readWaitMs: 2_000 }, store, log: { warn: () => {} } }),
    carryRoomForward: async () => {},
  };
  const bodies = [created('r'), joined('r', alice), ...Array.from({ length: messages }, (_, i) => posted('r', `r~m${i}`, `m${i}`))];
  await store.append(roomStream('r'), bodies.map((body, i) => ({ id: `e${i}`, ...body })), { expectedRevision: 0 });
  const run = (policy: RetentionPolicy) =>
    deleteOldEvents({ store, trimmer, policy, since: Number.MAX_SAFE_INTEGER, log: pino({ level: 'silent' }) });
  const kept = async () => (await store.readStream(roomStream('r'))).filter((e) => e.type === 'MessagePosted').map((e) => e.revision);
  const head = () => store.streamRevision(roomStream('r'));
  return { run, kept, head };
}

describe('retention by count in an idle room', () => {
  it('cuts once, then leaves the room alone: the newest maxCount messages stay, no event is added', async () => {
    const room = await roomWithMessages(30);
    const policy = { maxCount: 10, intervalMs: 1_000 };
    await room.run(policy);
    const afterFirst = { kept: await room.kept(), head: await room.head() };
    expect(afterFirst.kept).toEqual(Array.from({ length: 10 }, (_, i) => 23 + i));
    expect(afterFirst.head).toBe(33);
    for (let i = 0; i < 3; i++) await room.run(policy);
    expect(await room.kept()).toEqual(afterFirst.kept);
    expect(await room.head()).toBe(33);
  });

  it('keeps counting messages, not seqs, as the room goes on: one new message pushes exactly one out', async () => {
    const room = await roomWithMessages(12);
    const policy = { maxCount: 10, intervalMs: 1_000 };
    await room.run(policy);
    await room.run(policy);
    expect((await room.kept()).length).toBe(10);
  });
});
