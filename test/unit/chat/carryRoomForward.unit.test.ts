import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { roomStream } from '../../../src/domain/events.js';
import { ada, chatHarness, publicRoom, type ChatHarness } from './harness.js';

let h: ChatHarness;
let roomId: string;
beforeEach(async () => {
  h = await chatHarness();
  roomId = await publicRoom(h); // seqs 1-3, RoomCreated at 1
  for (const n of [1, 2, 3, 4, 5]) await h.chat.sendMessage(ada, roomId, `m${n}`, `c${n}`); // seqs 4-8
});
afterEach(() => h.close());

describe('carryRoomForward (a system command of retention)', () => {
  it('appends a snapshot when the newest one would fall out of the newest keepLast events', async () => {
    // Head 8, foldable from 1: 7 events old, more than half of a 10-event window.
    await h.trimmer.carryRoomForward(roomId, 10);
    const last = (await h.store.readStream(roomStream(roomId))).at(-1)!;
    // At seq 9 it is one of the newest 10; messages before 9 + 1 - 10 = 0 would go (none).
    expect(last).toMatchObject({ type: 'HistoryTrimmed', revision: 9, data: { room: { name: 'lobby' } } });
  });

  it('records the window in the snapshot it appends, even when a snapshot is young enough', async () => {
    await h.trimmer.carryRoomForward(roomId, 100);
    const last = (await h.store.readStream(roomStream(roomId))).at(-1)!;
    expect(last).toMatchObject({ type: 'HistoryTrimmed', revision: 9, data: { keepLast: 100, room: { name: 'lobby' } } });
    expect((await h.ports.commands.load(roomId)).keepLast).toBe(100);
  });

  it('appends nothing while the window is recorded and a snapshot is young enough, or for a room that does not exist', async () => {
    await h.trimmer.carryRoomForward(roomId, 100);
    const types = await h.logTypes(roomId);
    await h.trimmer.carryRoomForward(roomId, 100);
    await h.trimmer.carryRoomForward('nope', 10);
    expect(await h.logTypes(roomId)).toEqual(types);
    expect(await h.logTypes('nope')).toEqual([]);
  });

  it('after carrying, the room is young again: a second call appends nothing', async () => {
    await h.trimmer.carryRoomForward(roomId, 10);
    const types = await h.logTypes(roomId);
    await h.trimmer.carryRoomForward(roomId, 10);
    expect(await h.logTypes(roomId)).toEqual(types);
  });
});
