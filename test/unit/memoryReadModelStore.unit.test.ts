import { describe, expect, it } from 'vitest';
import { createMemoryReadModelStore, sliceRange } from '../../src/readModels/memoryReadModelStore.js';
import type { MessageView } from '../../projections/views.js';
import type { RoomEvent } from '../../src/domain/events.js';
import { alice, bob, created, deleted, edited, joined, left, posted, stored } from './fixtures.js';

const view = (seq: number): MessageView => ({
  id: `m${seq}`,
  clientMessageId: `c${seq}`,
  roomId: 'r',
  seq,
  author: alice,
  body: `body ${seq}`,
  createdAt: seq,
  editedAt: null,
  deleted: false,
});
/** Messages at seq 2, 4, 6, …, 20 (gaps where joins or edits would be). */
const list = Array.from({ length: 10 }, (_, i) => view(2 * (i + 1)));
const seqs = (views: MessageView[]) => views.map((m) => m.seq);

describe('sliceRange', () => {
  it('no bounds: the newest `limit`', () => {
    expect(seqs(sliceRange(list, { limit: 3 }))).toEqual([16, 18, 20]);
    expect(seqs(sliceRange(list, { limit: 100 }))).toEqual(seqs(list));
  });

  it('before: the newest `limit` with a smaller seq, ascending', () => {
    expect(seqs(sliceRange(list, { before: 10, limit: 3 }))).toEqual([4, 6, 8]);
    expect(seqs(sliceRange(list, { before: 11, limit: 3 }))).toEqual([6, 8, 10]);
    expect(seqs(sliceRange(list, { before: 5, limit: 10 }))).toEqual([2, 4]);
    expect(sliceRange(list, { before: 2, limit: 10 })).toEqual([]);
    expect(sliceRange(list, { before: 0, limit: 10 })).toEqual([]);
    expect(seqs(sliceRange(list, { before: 1_000, limit: 2 }))).toEqual([18, 20]);
  });

  it('after: the oldest `limit` with a greater seq', () => {
    expect(seqs(sliceRange(list, { after: 10, limit: 3 }))).toEqual([12, 14, 16]);
    expect(seqs(sliceRange(list, { after: 9, limit: 3 }))).toEqual([10, 12, 14]);
    expect(seqs(sliceRange(list, { after: 0, limit: 2 }))).toEqual([2, 4]);
    expect(seqs(sliceRange(list, { after: 17, limit: 10 }))).toEqual([18, 20]);
    expect(sliceRange(list, { after: 20, limit: 10 })).toEqual([]);
  });

  it('after and before together: the oldest `limit` strictly between them', () => {
    expect(seqs(sliceRange(list, { after: 4, before: 12, limit: 10 }))).toEqual([6, 8, 10]);
    expect(seqs(sliceRange(list, { after: 4, before: 12, limit: 2 }))).toEqual([6, 8]);
    expect(sliceRange(list, { after: 12, before: 12, limit: 10 })).toEqual([]);
    expect(sliceRange(list, { after: 15, before: 5, limit: 10 })).toEqual([]);
  });

  it('an empty list gives nothing', () => {
    expect(sliceRange([], { limit: 5 })).toEqual([]);
    expect(sliceRange([], { after: 1, limit: 5 })).toEqual([]);
    expect(sliceRange([], { before: 1, limit: 5 })).toEqual([]);
  });

  it('does not modify the list', () => {
    const copy = [...list];
    sliceRange(list, { after: 2, before: 10, limit: 1 });
    expect(list).toEqual(copy);
  });
});

describe('memory read-model store', () => {
  /** A room's log: created, Alice joins, then posts m1..m5 at seq 3..7; positions = seq + offset. */
  function roomLog(roomId: string, offset: number, opts: { passwordHash?: string | null; at?: number } = {}): RoomEvent[] {
    const at = opts.at ?? 0;
    const bodies = [created(roomId, { passwordHash: opts.passwordHash ?? null }), joined(roomId, alice)];
    for (let i = 1; i <= 5; i++) bodies.push(posted(roomId, `${roomId}~m${i}`, `msg ${i}`));
    return bodies.map((body, i) => stored(body, i + 1, i + 1 + offset, at + i));
  }

  it('starts empty, checkpoint 0', async () => {
    const store = createMemoryReadModelStore();
    expect(await store.checkpoint()).toBe(0);
    expect(await store.room('r')).toBeNull();
    expect(await store.message('r~m1')).toBeNull();
    expect(await store.messages('r', { limit: 10 })).toEqual([]);
    expect(await store.publicRooms(10)).toEqual([]);
  });

  it('apply: builds the room and its messages, checkpoint = last position', async () => {
    const store = createMemoryReadModelStore();
    await store.apply(roomLog('r', 100));
    expect(await store.checkpoint()).toBe(107);
    expect(await store.room('r')).toMatchObject({ id: 'r', headSeq: 7, memberCount: 1, private: false });
    expect((await store.messages('r', { limit: 10 })).map((m) => m.body)).toEqual(['msg 1', 'msg 2', 'msg 3', 'msg 4', 'msg 5']);
    expect(await store.message('r~m3')).toMatchObject({ seq: 5, body: 'msg 3', deleted: false });
  });

  it('apply is idempotent: events at or below the checkpoint are ignored', async () => {
    const store = createMemoryReadModelStore();
    const log = roomLog('r', 0);
    await store.apply(log);
    const before = { room: await store.room('r'), messages: await store.messages('r', { limit: 10 }) };

    await store.apply(log); // the whole batch again
    await store.apply(log.slice(3, 5)); // a part of it
    await store.apply([log[6]!]); // exactly the checkpoint

    expect(await store.checkpoint()).toBe(7);
    expect(await store.room('r')).toEqual(before.room);
    expect(await store.messages('r', { limit: 10 })).toEqual(before.messages);
  });

  it('a batch overlapping the checkpoint applies only the new tail', async () => {
    const store = createMemoryReadModelStore();
    const log = roomLog('r', 0);
    await store.apply(log.slice(0, 4));
    await store.apply(log.slice(2)); // seq 3 and 4 again, then 5..7
    expect(await store.checkpoint()).toBe(7);
    expect(seqs(await store.messages('r', { limit: 10 }))).toEqual([3, 4, 5, 6, 7]);
    expect((await store.room('r'))?.memberCount).toBe(1);
  });

  it('a joined member counted once even when the join is applied twice', async () => {
    const store = createMemoryReadModelStore();
    const log = roomLog('r', 0);
    await store.apply(log.slice(0, 2));
    await store.apply(log.slice(0, 2));
    expect((await store.room('r'))?.memberCount).toBe(1);
  });

  it('messages: ranges by before / after / limit', async () => {
    const store = createMemoryReadModelStore();
    await store.apply(roomLog('r', 0)); // posts at seq 3..7
    expect(seqs(await store.messages('r', { limit: 2 }))).toEqual([6, 7]);
    expect(seqs(await store.messages('r', { before: 6, limit: 2 }))).toEqual([4, 5]);
    expect(seqs(await store.messages('r', { after: 3, limit: 2 }))).toEqual([4, 5]);
    expect(seqs(await store.messages('r', { after: 4, before: 7, limit: 10 }))).toEqual([5, 6]);
    expect(await store.messages('other', { limit: 10 })).toEqual([]);
  });

  it('edits and deletes are applied to both message() and messages()', async () => {
    const store = createMemoryReadModelStore();
    await store.apply(roomLog('r', 0));
    await store.apply([stored(edited('r', 'r~m2', 'msg 2 (edited)'), 8, 8, 5_000), stored(deleted('r', 'r~m4'), 9, 9)]);

    expect(await store.message('r~m2')).toMatchObject({ seq: 4, body: 'msg 2 (edited)', editedAt: 5_000, deleted: false });
    expect(await store.message('r~m4')).toMatchObject({ seq: 6, body: '', deleted: true });
    const range = await store.messages('r', { limit: 10 });
    expect(seqs(range)).toEqual([3, 4, 5, 6, 7]);
    expect(range.find((m) => m.id === 'r~m2')).toMatchObject({ body: 'msg 2 (edited)', editedAt: 5_000 });
    expect(range.find((m) => m.id === 'r~m4')).toMatchObject({ body: '', deleted: true });
    expect((await store.room('r'))?.headSeq).toBe(9);
  });

  it('an edit after a delete does not bring the message back', async () => {
    const store = createMemoryReadModelStore();
    await store.apply(roomLog('r', 0));
    await store.apply([stored(deleted('r', 'r~m1'), 8), stored(edited('r', 'r~m1', 'zombie'), 9)]);
    expect(await store.message('r~m1')).toMatchObject({ body: '', deleted: true, editedAt: null });
    expect((await store.messages('r', { limit: 1, after: 0 }))[0]).toMatchObject({ body: '', deleted: true });
  });

  it('an edit of a message it never had (retention) is ignored', async () => {
    const store = createMemoryReadModelStore();
    await store.apply([stored(created('r'), 1), stored(edited('r', 'r~gone', 'x'), 2)]);
    expect(await store.message('r~gone')).toBeNull();
    expect(await store.messages('r', { limit: 10 })).toEqual([]);
  });

  it('rooms are kept apart', async () => {
    const store = createMemoryReadModelStore();
    await store.apply([...roomLog('a', 0), ...roomLog('b', 7)]);
    expect((await store.messages('a', { limit: 10 })).every((m) => m.roomId === 'a')).toBe(true);
    expect((await store.messages('b', { limit: 10 })).map((m) => m.id)).toEqual(['b~m1', 'b~m2', 'b~m3', 'b~m4', 'b~m5']);
  });

  it('publicRooms: excludes private rooms, newest activity first, limited', async () => {
    const store = createMemoryReadModelStore();
    await store.apply([
      stored(created('quiet'), 1, 1, 100),
      stored(created('secret', { passwordHash: 'h' }), 1, 2, 200),
      stored(created('busy'), 1, 3, 300),
      stored(joined('busy', bob), 2, 4),
      stored(posted('busy', 'busy~m', 'x', bob), 3, 5),
      stored(joined('secret', bob), 2, 6),
      stored(posted('secret', 'secret~m', 'x', bob), 3, 7),
      stored(posted('secret', 'secret~n', 'x', bob), 4, 8),
      stored(created('fresh'), 1, 9, 900),
    ]);
    expect((await store.publicRooms(10)).map((r) => r.id)).toEqual(['busy', 'fresh', 'quiet']);
    expect((await store.publicRooms(1)).map((r) => r.id)).toEqual(['busy']);
    expect(await store.room('secret')).toMatchObject({ private: true });
  });

  it('publicRooms orders by the time of the newest event, not by how many events a room has', async () => {
    const store = createMemoryReadModelStore();
    const old = Array.from({ length: 50 }, (_, i) => stored(joined('old', { id: `u${i}`, name: `u${i}` }), i + 2, i + 2, 1_000 + i));
    await store.apply([stored(created('old'), 1, 1, 1_000), ...old, stored(created('new'), 1, 60, 9_000_000)]);
    expect((await store.publicRooms(10)).map((r) => r.id)).toEqual(['new', 'old']);
  });
});

describe('member lists of a large room', () => {
  // A node without Redis replays the whole log into this store at every start: a join that cost
  // in proportion to the room's size made 20,000 joins take two minutes (the node answering 503
  // meanwhile). Each join or leave must cost the same whatever the room's size. The bound below
  // is two orders of magnitude above what constant-cost joins take even on a loaded machine, and
  // far below what joins that copy the member list take (~5 min for 30,000).
  it('30,000 joins and a leave in one room apply in well under the time a copy per join takes', async () => {
    const store = createMemoryReadModelStore();
    const users = Array.from({ length: 30_000 }, (_, i) => ({ id: `u${i}`, name: `user ${i}` }));
    const events: RoomEvent[] = [stored(created('big'), 1), ...users.map((user, i) => stored(joined('big', user), i + 2))];
    events.push(stored(left('big', users[0]!), events.length + 1));
    const started = performance.now();
    for (let i = 0; i < events.length; i += 500) await store.apply(events.slice(i, i + 500));
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(await store.memberRooms('u1', 10)).toHaveLength(1);
    expect(await store.memberRooms('u0', 10)).toEqual([]);
    expect((await store.room('big'))?.memberCount).toBe(29_999);
  }, 60_000);
});
