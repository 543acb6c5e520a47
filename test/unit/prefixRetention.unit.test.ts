import { describe, expect, it } from 'vitest';
import { roomStream, type UserRef } from '../../src/domain/events.js';
import { decide, evolve, initialRoomState } from '../../src/domain/room.js';
import { createRoomCommandHandler, type RoomCommandHandler } from '../../src/commandHandling/roomCommandHandler.js';
import { ForbiddenError } from '../../src/domain/errors.js';
import { snapshotCarrier } from '../../src/retention/snapshotCarrier.js';
import { createMemoryEventStore } from '../../src/eventStore/memoryEventStore.js';
import { alice, bob, created, joined, left, posted, stored } from './fixtures.js';

/*
 * Retention on a store that drops a stream's whole prefix (EventStoreDB's $maxCount and $tb; the
 * memory store does the same): RoomCreated and the joins go too, so a HistoryTrimmed carrying a
 * snapshot of the room must always be inside what the store keeps.
 */
const carol: UserRef = { id: 'u-carol', name: 'Carol' };

describe('a trim that carries the room', () => {
  it('is decided with a snapshot of the room even when no more messages go', () => {
    const state = initialRoomState();
    [created('r'), joined('r', alice), joined('r', bob), left('r', alice)].forEach((body, i) => evolve(state, stored(body, i + 1), i + 1));
    const [event] = decide(state, { type: 'TrimHistory', beforeSeq: 1, carrySnapshot: true });
    expect(event).toMatchObject({
      type: 'HistoryTrimmed',
      data: { roomId: 'r', beforeSeq: 1, room: { name: 'room r', passwordHash: null, createdBy: alice, members: [bob] } },
    });
  });

  it('is enough to fold the room from: a log that starts after RoomCreated and the joins', () => {
    const snapshot = { name: 'kept', passwordHash: 'h', createdBy: alice, members: [alice, bob] };
    const state = initialRoomState();
    // What the store still returns: a message from before the snapshot, the snapshot, a leave.
    const kept = [
      stored(posted('r', 'r~9', 'nine'), 9),
      stored({ type: 'HistoryTrimmed', data: { roomId: 'r', beforeSeq: 9, room: snapshot } }, 10),
      stored(left('r', bob), 11),
    ];
    for (const event of kept) evolve(state, event, event.seq);
    expect(state.room).toMatchObject({ id: 'r', name: 'kept', passwordHash: 'h' });
    expect([...state.members.keys()]).toEqual([alice.id]);
    expect(state).toMatchObject({ revision: 11, trimmedBefore: 9, foldableFrom: 10 });
    expect([...state.messages.keys()]).toEqual(['r~9']);
  });
});

describe('the room command handler on a store keeping only the newest N events of a stream', () => {
  const keepLast = 10;

  async function roomWithRetention() {
    const store = createMemoryEventStore();
    const repository = createRoomCommandHandler(store, { afterBatch: snapshotCarrier(keepLast) });
    await repository.execute('r', () => ({ type: 'CreateRoom', roomId: 'r', name: 'busy', passwordHash: null, by: alice }));
    await repository.execute('r', () => ({ type: 'JoinRoom', user: bob, passwordAccepted: true }));
    await store.setStreamRetention!(roomStream('r'), { maxCount: keepLast });
    return { store, repository };
  }
  const post = (repository: RoomCommandHandler, author: UserRef, n: number) =>
    repository.execute('r', () => ({ type: 'PostMessage', author, clientMessageId: `c${n}`, body: `m${n}` }));

  it('keeps a snapshot inside the window through single sends and bursts, so a fresh load still has the room', async () => {
    const { store, repository } = await roomWithRetention();
    for (let n = 0; n < 37; n++) await post(repository, n % 2 ? alice : bob, n);
    // A burst larger than the window goes into one append (group commit) and still ends with one.
    await Promise.all(Array.from({ length: 25 }, (_, i) => post(repository, alice, 100 + i)));
    await repository.execute('r', () => ({ type: 'JoinRoom', user: carol, passwordAccepted: true }));
    for (let n = 200; n < 213; n++) await post(repository, carol, n);

    const visible = await store.readStream(roomStream('r'));
    expect(visible).toHaveLength(keepLast);
    expect(visible.some((e) => e.type === 'HistoryTrimmed' && (e.data as { room?: unknown }).room)).toBe(true);

    const fresh = await createRoomCommandHandler(store, { afterBatch: snapshotCarrier(keepLast) }).load('r');
    expect(fresh.room).toMatchObject({ id: 'r', name: 'busy' });
    expect([...fresh.members.keys()].sort()).toEqual([alice.id, bob.id, carol.id].sort());
    expect(fresh.revision).toBe(await store.streamRevision(roomStream('r')));
    expect(fresh.trimmedBefore).toBeGreaterThan(fresh.revision - keepLast - Math.floor(keepLast / 2));
  });

  it('carries a snapshot only every half window, not on every append', async () => {
    const { store, repository } = await roomWithRetention();
    for (let n = 0; n < 40; n++) await post(repository, alice, n);
    const all = await store.readAll();
    const carriers = all.filter((e) => e.type === 'HistoryTrimmed');
    // 3 structural events + 40 posts, one carrier per 5 events after the first: about 40 / 6.
    expect(carriers.length).toBeGreaterThanOrEqual(6);
    expect(carriers.length).toBeLessThanOrEqual(9);
    const seqs = carriers.map((e) => e.revision);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]! - seqs[i - 1]!).toBeLessThanOrEqual(keepLast / 2 + 1);
  });

  it('folds again when another writer moved the window past its cached state (a leave it never saw is not lost)', async () => {
    const { store, repository } = await roomWithRetention();
    await post(repository, bob, 1);
    expect((await repository.load('r')).members.has(bob.id)).toBe(true);
    const other = createRoomCommandHandler(store, { afterBatch: snapshotCarrier(keepLast) });
    await other.execute('r', () => ({ type: 'LeaveRoom', user: bob }));
    for (let n = 10; n < 40; n++) await post(other, alice, n);

    const state = await repository.load('r');
    expect(state.members.has(bob.id)).toBe(false);
    expect(state.revision).toBe(await store.streamRevision(roomStream('r')));
    // And its next decision is made on that state: bob is no longer a member.
    await expect(post(repository, bob, 2)).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('appends no snapshot when the store keeps everything (no keepLast)', async () => {
    const store = createMemoryEventStore();
    const repository = createRoomCommandHandler(store);
    await repository.execute('r', () => ({ type: 'CreateRoom', roomId: 'r', name: 'all', passwordHash: null, by: alice }));
    for (let n = 0; n < 30; n++) await post(repository, alice, n);
    expect((await store.readAll()).filter((e) => e.type === 'HistoryTrimmed')).toEqual([]);
  });
});
