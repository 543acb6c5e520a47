import { afterEach, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../src/domain/events.js';
import { CheckpointMismatchError, ReadModelsBehindError, type ReadModelStore } from '../../src/readModels/readModelStore.js';
import { alice, bob, created, deleted, edited, joined, left, posted, stored } from '../unit/fixtures.js';

export interface ReadModelFixture {
  store: ReadModelStore;
  /** Another handle on the same data (another node, or the same node after a restart), if the adapter shares. */
  reopen?: () => Promise<ReadModelStore>;
  /** Loses everything the store holds behind its back, as a Redis restart without persistence or FLUSHALL does. */
  lose: () => Promise<void>;
  cleanup: () => Promise<void>;
}

/** A room with five messages (seq 3..7), one edited and one deleted afterwards. */
function roomLog(roomId: string, firstPosition: number): RoomEvent[] {
  let seq = 0;
  const next = (body: Parameters<typeof stored>[0]) => stored(body, ++seq, firstPosition + seq);
  return [
    next(created(roomId)),
    next(joined(roomId, alice)),
    ...[1, 2, 3, 4, 5].map((n) => next(posted(roomId, `${roomId}~m${n}`, `body ${n}`))),
    next(edited(roomId, `${roomId}~m2`, 'body 2, edited')),
    next(deleted(roomId, `${roomId}~m4`)),
    next(joined(roomId, bob)),
    next(left(roomId, bob)),
  ];
}

/** The read-model store's contract: what the projections and the GraphQL layer rely on. */
export function readModelStoreContract(name: string, create: () => Promise<ReadModelFixture>): void {
  describe(`ReadModelStore contract: ${name}`, () => {
    let fixture: ReadModelFixture | null = null;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = null;
    });

    it('applies history with edits and deletes, rooms with counts, and records the checkpoint', async () => {
      fixture = await create();
      const { store } = fixture;
      expect(await store.checkpoint()).toBe(0);
      await store.apply(roomLog('a', 0));
      expect(await store.checkpoint()).toBe(11);
      expect(await store.room('a')).toMatchObject({ id: 'a', headSeq: 11, memberCount: 1, oldestSeq: 1, private: false });
      const history = await store.messages('a', { limit: 10 });
      expect(history.map((m) => [m.seq, m.body, m.deleted, m.editedAt !== null])).toEqual([
        [3, 'body 1', false, false],
        [4, 'body 2, edited', false, true],
        [5, 'body 3', false, false],
        [6, '', true, false],
        [7, 'body 5', false, false],
      ]);
      expect(await store.message('a~m2')).toMatchObject({ body: 'body 2, edited', author: alice, clientMessageId: 'c-a~m2' });
      expect(await store.message('nope')).toBeNull();
      expect(await store.room('nope')).toBeNull();
    });

    it('pages history: newest before, oldest after, ascending either way', async () => {
      fixture = await create();
      const { store } = fixture;
      await store.apply(roomLog('p', 0));
      const seqs = async (range: Parameters<ReadModelStore['messages']>[1]) => (await store.messages('p', range)).map((m) => m.seq);
      expect(await seqs({ limit: 2 })).toEqual([6, 7]);
      expect(await seqs({ before: 6, limit: 2 })).toEqual([4, 5]);
      expect(await seqs({ after: 3, limit: 2 })).toEqual([4, 5]);
      expect(await seqs({ after: 3, before: 6, limit: 10 })).toEqual([4, 5]);
      expect(await seqs({ before: 3, limit: 10 })).toEqual([]);
      expect(await store.messages('empty', { limit: 10 })).toEqual([]);
    });

    it('ignores what it already applied, so a replayed batch changes nothing', async () => {
      fixture = await create();
      const { store } = fixture;
      const log = roomLog('i', 0);
      await store.apply(log.slice(0, 6));
      await store.apply(log);
      await store.apply(log.slice(3, 8));
      expect(await store.room('i')).toMatchObject({ headSeq: 11, memberCount: 1 });
      expect((await store.messages('i', { limit: 10 })).length).toBe(5);
      expect(await store.checkpoint()).toBe(11);
    });

    it('follows retention: a HistoryTrimmed event drops older messages and moves oldestSeq', async () => {
      fixture = await create();
      const { store } = fixture;
      const log = roomLog('t', 0);
      await store.apply(log);
      await store.apply([stored({ type: 'HistoryTrimmed', data: { roomId: 't', beforeSeq: 5 } }, 12, 12)]);
      expect((await store.messages('t', { limit: 10 })).map((m) => m.seq)).toEqual([5, 6, 7]);
      expect(await store.message('t~m1')).toBeNull();
      expect(await store.room('t')).toMatchObject({ oldestSeq: 5, headSeq: 12 });
      // A post and its trim in one batch: the post never shows.
      await store.apply([
        stored(posted('t', 't~late', 'late'), 13, 13),
        stored({ type: 'HistoryTrimmed', data: { roomId: 't', beforeSeq: 14 } }, 14, 14),
      ]);
      expect(await store.messages('t', { limit: 10 })).toEqual([]);
      expect(await store.message('t~late')).toBeNull();
    });

    it('lists public rooms only, most recent activity first', async () => {
      fixture = await create();
      const { store } = fixture;
      await store.apply([
        stored(created('quiet'), 1, 1, 1_000),
        stored(created('secret', { passwordHash: 'h' }), 1, 2, 2_000),
        stored(created('busy'), 1, 3, 3_000),
        stored(joined('quiet', bob), 2, 4, 4_000),
      ]);
      expect((await store.publicRooms(10)).map((r) => r.id)).toEqual(['quiet', 'busy']);
      expect((await store.publicRooms(1)).map((r) => r.id)).toEqual(['quiet']);
      expect((await store.roomIds()).sort()).toEqual(['busy', 'quiet', 'secret']);
    });

    it("lists a user's rooms, private ones included, newest activity first; leaves and a snapshot's member list take rooms off", async () => {
      fixture = await create();
      const { store } = fixture;
      const carol = { id: 'u-carol', name: 'Carol' };
      await store.apply([
        stored(created('quiet'), 1, 1, 1_000),
        stored(joined('quiet', bob), 2, 2, 2_000),
        stored(created('secret', { passwordHash: 'h' }), 1, 3, 3_000),
        stored(joined('secret', bob), 2, 4, 4_000),
        stored(created('busy'), 1, 5, 5_000),
        stored(joined('busy', bob), 2, 6, 6_000),
        stored(joined('busy', carol), 3, 7, 7_000),
        stored(joined('quiet', carol), 3, 8, 8_000),
      ]);
      expect((await store.memberRooms(bob.id, 10)).map((r) => r.id)).toEqual(['quiet', 'busy', 'secret']);
      expect((await store.memberRooms(bob.id, 2, { atLeast: 8 })).map((r) => r.id)).toEqual(['quiet', 'busy']);
      expect(await store.memberRooms('u-nobody', 10)).toEqual([]);
      // In one batch: bob leaves 'quiet'; 'busy' is trimmed with a snapshot that no longer lists
      // carol (her leave was in the part of the log that is gone) but lists alice.
      const room = { name: 'room busy', passwordHash: null, createdBy: alice, members: [bob, alice] };
      await store.apply([
        stored(left('quiet', bob), 4, 9, 9_000),
        stored({ type: 'HistoryTrimmed', data: { roomId: 'busy', beforeSeq: 4, room } }, 5, 10, 10_000),
        stored(joined('secret', carol), 3, 11, 11_000),
      ]);
      expect((await store.memberRooms(bob.id, 10)).map((r) => r.id)).toEqual(['secret', 'busy']);
      expect((await store.memberRooms(carol.id, 10)).map((r) => r.id)).toEqual(['secret', 'quiet']);
      expect((await store.memberRooms(alice.id, 10)).map((r) => r.id)).toEqual(['busy']);
      await expect(store.memberRooms(bob.id, 10, { atLeast: 12 })).rejects.toBeInstanceOf(ReadModelsBehindError);
    });

    it('makes a room from a trim that carries its snapshot when RoomCreated is gone (a scavenged log)', async () => {
      fixture = await create();
      const { store } = fixture;
      const room = { name: 'Kept', passwordHash: null, createdBy: alice, members: [alice, bob] };
      await store.apply([
        stored(posted('old', 'old~m8', 'before the cut'), 8, 1),
        stored({ type: 'HistoryTrimmed', data: { roomId: 'old', beforeSeq: 9, room } }, 10, 2),
        stored(posted('old', 'old~m11', 'after the cut'), 11, 3),
      ]);
      expect(await store.room('old')).toMatchObject({ name: 'Kept', memberCount: 2, oldestSeq: 9, headSeq: 11, private: false });
      expect(await store.roomIds()).toEqual(['old']);
      expect((await store.messages('old', { limit: 10 })).map((m) => m.id)).toEqual(['old~m11']);
    });

    it('applies a batch only onto the checkpoint it was read after; a mismatch applies nothing and says what is stored', async () => {
      fixture = await create();
      const { store } = fixture;
      const log = roomLog('c', 0);
      await store.apply(log.slice(0, 4), { after: 0, through: 4 });
      const error = await store.apply(log.slice(4), { after: 3, through: 11 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointMismatchError);
      expect(error).toMatchObject({ expected: 3, stored: 4 });
      expect(await store.checkpoint()).toBe(4);
      expect(await store.room('c')).toMatchObject({ headSeq: 4 });
      await store.apply(log.slice(4), { after: 4, through: 11 });
      expect(await store.room('c')).toMatchObject({ headSeq: 11 });
    });

    it('moves the checkpoint to `through`, past events that are not room events, even with none to apply', async () => {
      fixture = await create();
      const { store } = fixture;
      await store.apply(roomLog('n', 0), { after: 0, through: 15 });
      expect(await store.checkpoint()).toBe(15);
      await store.apply([], { after: 15, through: 20 });
      expect(await store.checkpoint()).toBe(20);
      expect(await store.room('n')).toMatchObject({ headSeq: 11 });
    });

    it('a read given `at` answers only when the checkpoint reaches it, and throws ReadModelsBehindError (with the checkpoint) otherwise', async () => {
      fixture = await create();
      const { store } = fixture;
      await store.apply(roomLog('w', 0));
      const reached = { atLeast: 11 };
      expect(await store.room('w', reached)).toMatchObject({ headSeq: 11 });
      expect((await store.messages('w', { limit: 10 }, reached)).length).toBe(5);
      expect((await store.messages('w', { after: 3, limit: 10 }, reached)).length).toBe(4);
      expect(await store.message('w~m1', reached)).toMatchObject({ seq: 3 });
      expect((await store.publicRooms(10, reached)).map((r) => r.id)).toEqual(['w']);
      expect(await store.room('none', reached)).toBeNull();
      const ahead = { atLeast: 12 };
      const reads: Array<() => Promise<unknown>> = [
        () => store.room('w', ahead),
        () => store.room('none', ahead),
        () => store.messages('w', { limit: 10 }, ahead),
        () => store.messages('w', { after: 3, limit: 10 }, ahead),
        () => store.messages('empty', { limit: 10 }, ahead),
        () => store.message('w~m1', ahead),
        () => store.publicRooms(10, ahead),
      ];
      for (const read of reads) {
        const error = await read().then(() => null, (e: unknown) => e);
        expect(error).toBeInstanceOf(ReadModelsBehindError);
        expect(error).toMatchObject({ wanted: 12, checkpoint: 11 });
      }
    });

    it('lost behind its back (a Redis restart or FLUSHALL): reads given `at` refuse, and a batch for the old checkpoint is refused', async () => {
      fixture = await create();
      const { store } = fixture;
      const log = roomLog('l', 0);
      await store.apply(log.slice(0, 8), { after: 0, through: 8 });
      await fixture.lose();
      expect(await store.checkpoint()).toBe(0);
      await expect(store.messages('l', { limit: 10 }, { atLeast: 8 })).rejects.toMatchObject({ name: 'ReadModelsBehindError', checkpoint: 0 });
      await expect(store.room('l', { atLeast: 8 })).rejects.toBeInstanceOf(ReadModelsBehindError);
      // The writer does not know yet: its next batch must not become the store's whole content.
      await expect(store.apply(log.slice(8), { after: 8, through: 11 })).rejects.toMatchObject({ name: 'CheckpointMismatchError', stored: 0 });
      expect(await store.room('l')).toBeNull();
      expect(await store.checkpoint()).toBe(0);
      // Rebuilt from the start of the log, it is whole again.
      await store.apply(log, { after: 0, through: 11 });
      expect(await store.room('l', { atLeast: 11 })).toMatchObject({ headSeq: 11 });
      expect((await store.messages('l', { limit: 10 }, { atLeast: 11 })).length).toBe(5);
    });

    it('keeps views and checkpoint for another handle on the same data', async () => {
      fixture = await create();
      if (!fixture.reopen) return; // the memory adapter shares nothing, by design
      await fixture.store.apply(roomLog('s', 0));
      const other = await fixture.reopen();
      expect(await other.checkpoint()).toBe(11);
      expect(await other.room('s')).toMatchObject({ headSeq: 11 });
    });
  });
}
