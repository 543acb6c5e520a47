import { describe, expect, it } from 'vitest';
import { decide, evolve, initialRoomState } from '../../src/domain/room.js';
import { parseDuration, trimPoint } from '../../src/retention/policy.js';
import { firstRevisionSince } from '../../src/retention/streamMetadata.js';
import { createMemoryEventStore } from '../../src/eventStore/memoryEventStore.js';
import { projectRoom } from '../../projections/rooms.js';
import { createMemoryReadModelStore } from '../../src/readModels/memoryReadModelStore.js';
import { alice, created, joined, posted, stored } from './fixtures.js';
import type { RoomEvent, RoomEventBody } from '../../src/domain/events.js';

const trimmed = (roomId: string, beforeSeq: number): RoomEventBody => ({ type: 'HistoryTrimmed', data: { roomId, beforeSeq } });

function given(...bodies: RoomEventBody[]) {
  const state = initialRoomState();
  bodies.forEach((body, i) => evolve(state, stored(body, i + 1), i + 1));
  return state;
}

describe('retention in the room aggregate', () => {
  const history = [created('r'), joined('r', alice), posted('r', 'r~1', 'one'), posted('r', 'r~2', 'two'), posted('r', 'r~3', 'three')];

  it('records a trim below the head once, and forgets the trimmed messages', () => {
    const state = given(...history);
    const [event] = decide(state, { type: 'TrimHistory', beforeSeq: 5 });
    expect(event).toMatchObject({ type: 'HistoryTrimmed', data: { roomId: 'r', beforeSeq: 5 } });
    evolve(state, stored(event!, 6), 6);
    expect(state.trimmedBefore).toBe(5);
    expect([...state.messages.keys()]).toEqual(['r~3']);
    expect(decide(state, { type: 'TrimHistory', beforeSeq: 5 })).toEqual([]);
    expect(decide(state, { type: 'TrimHistory', beforeSeq: 3 })).toEqual([]);
  });

  it('never trims past the head (the trim event itself comes after it)', () => {
    const [event] = decide(given(...history), { type: 'TrimHistory', beforeSeq: 100 });
    expect(event).toMatchObject({ data: { beforeSeq: 6 } });
  });

  it('folds a trimmed log with gaps: membership and the room survive, edits of removed messages are NOT_FOUND', () => {
    const state = initialRoomState();
    const kept: RoomEvent[] = [stored(created('r'), 1), stored(joined('r', alice), 2), stored(posted('r', 'r~3', 'three'), 5), stored(trimmed('r', 5), 6)];
    for (const event of kept) evolve(state, event, event.seq);
    expect(state.revision).toBe(6);
    expect(state.members.has(alice.id)).toBe(true);
    expect(() => decide(state, { type: 'EditMessage', by: alice, messageId: 'r~1', body: 'x' })).toThrow(/not found/);
    expect(decide(state, { type: 'EditMessage', by: alice, messageId: 'r~3', body: 'x' })).toHaveLength(1);
  });
});

describe('retention policy', () => {
  it('keeps the newest maxCount seqs, and the messages since the age cutoff', () => {
    expect(trimPoint({ head: 100, firstSince: 40 }, { maxCount: 10, intervalMs: 1 })).toBe(91);
    expect(trimPoint({ head: 100, firstSince: 40 }, { maxAgeMs: 1, intervalMs: 1 })).toBe(40);
    expect(trimPoint({ head: 100, firstSince: null }, { maxAgeMs: 1, intervalMs: 1 })).toBe(101);
    expect(trimPoint({ head: 100, firstSince: 95 }, { maxAgeMs: 1, maxCount: 10, intervalMs: 1 })).toBe(95);
    expect(trimPoint({ head: 5, firstSince: 1 }, { maxCount: 10, intervalMs: 1 })).toBe(1);
  });

  it('finds where the events newer than the age cutoff begin, by binary search, across retention gaps', async () => {
    const store = createMemoryEventStore();
    // Revisions 1..40 stored at t = 10 × revision.
    for (let i = 1; i <= 40; i++) await store.append('room-a', [{ id: `e${i}`, type: 'MessagePosted', data: {}, createdAt: 10 * i }], { expectedRevision: i - 1 });
    expect(await firstRevisionSince(store, 'room-a', 0, 1, 40)).toBe(1);
    expect(await firstRevisionSince(store, 'room-a', 255, 1, 40)).toBe(26);
    expect(await firstRevisionSince(store, 'room-a', 260, 1, 40)).toBe(26);
    expect(await firstRevisionSince(store, 'room-a', 401, 1, 40)).toBeNull();
    await store.setStreamRetention('room-a', { truncateBefore: 30 });
    // Everything below 30 is gone: the cut is wherever the kept events turn new enough.
    expect(await firstRevisionSince(store, 'room-a', 255, 30, 40)).toBe(30);
    expect(await firstRevisionSince(store, 'room-a', 345, 30, 40)).toBe(35);
  });

  it('parses durations', () => {
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('90m')).toBe(90 * 60_000);
    expect(parseDuration('3600')).toBe(3_600_000);
    expect(parseDuration('soon')).toBeNull();
  });
});

describe('retention in the read models', () => {
  it('moves oldestSeq and drops the trimmed messages from history', async () => {
    expect(projectRoom(projectRoom(undefined, stored(created('r'), 1)), stored(trimmed('r', 4), 2))).toMatchObject({ oldestSeq: 4, headSeq: 2 });
    const store = createMemoryReadModelStore();
    await store.apply([
      stored(created('r'), 1),
      stored(joined('r', alice), 2),
      stored(posted('r', 'r~1', 'one'), 3),
      stored(posted('r', 'r~2', 'two'), 4),
      stored(posted('r', 'r~3', 'three'), 5),
      stored(trimmed('r', 5), 6),
    ]);
    expect((await store.messages('r', { limit: 10 })).map((m) => m.id)).toEqual(['r~3']);
    expect(await store.message('r~1')).toBeNull();
    expect(await store.room('r')).toMatchObject({ oldestSeq: 5, headSeq: 6 });
  });
});
