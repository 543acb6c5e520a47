import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { roomChannel } from '../../../src/broker/broker.js';
import { roomStream } from '../../../src/domain/events.js';
import { ada, chatHarness, publicRoom, type ChatHarness } from './harness.js';

let h: ChatHarness;
let roomId: string;
beforeEach(async () => {
  h = await chatHarness();
  roomId = await publicRoom(h); // seqs 1-3
  for (const n of [1, 2, 3]) await h.chat.sendMessage(ada, roomId, `m${n}`, `c${n}`); // seqs 4-6
});
afterEach(() => h.close());

const lastEvent = async (roomId: string) => (await h.store.readStream(roomStream(roomId))).at(-1)!;

describe('trimHistory (a system command of retention)', () => {
  it('records the cut in the room log, publishes it, and resolves with where messages now start', async () => {
    const published = await h.listen(roomChannel(roomId));
    const waits = h.waited.length;
    expect(await h.trimmer.trimHistory(roomId, 5)).toBe(5);
    expect(await lastEvent(roomId)).toMatchObject({ type: 'HistoryTrimmed', data: { roomId, beforeSeq: 5 } });
    expect((await lastEvent(roomId)).data).not.toHaveProperty('room');
    expect(published).toMatchObject([{ type: 'HistoryTrimmed', seq: 7 }]);
    // Retention goes on to the store at once; nothing reads this write back, so nothing waits.
    expect(h.waited).toHaveLength(waits);
  });

  it('never moves the cut back, and appends nothing when it does not move', async () => {
    await h.trimmer.trimHistory(roomId, 5);
    const types = await h.logTypes(roomId);
    expect(await h.trimmer.trimHistory(roomId, 3)).toBe(5);
    expect(await h.logTypes(roomId)).toEqual(types);
  });

  it('with carrySnapshot: the event carries the room, even when no more messages go', async () => {
    await h.trimmer.trimHistory(roomId, 5);
    expect(await h.trimmer.trimHistory(roomId, 5, { carrySnapshot: true })).toBe(5);
    expect((await lastEvent(roomId)).data).toMatchObject({ beforeSeq: 5, room: { name: 'lobby', members: [ada, expect.anything()] } });
  });
});
