import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ada, bob, chatHarness, expectRejects, type ChatHarness } from './harness.js';

let h: ChatHarness;
let roomId: string;
beforeEach(async () => {
  h = await chatHarness();
  ({ id: roomId } = await h.chat.createRoom(ada, 'lobby')); // seqs 1-2
  for (const n of [1, 2, 3]) await h.chat.sendMessage(ada, roomId, `m${n}`, `c${n}`); // seqs 3-5
});
afterEach(() => h.close());

const seqs = (events: Array<{ seq: number }>) => events.map((e) => e.seq);

describe('roomEvents (query)', () => {
  it('replays the log itself, from afterSeq + 1, as appended (no read model involved)', async () => {
    const events = await h.chat.roomEvents(bob, roomId, 0, null);
    expect(events.map((e) => e.type)).toEqual(['RoomCreated', 'MemberJoined', 'MessagePosted', 'MessagePosted', 'MessagePosted']);
    expect(seqs(await h.chat.roomEvents(bob, roomId, 3, 1))).toEqual([4]);
    expect(seqs(await h.chat.roomEvents(bob, roomId, undefined, undefined))).toEqual([1, 2, 3, 4, 5]);
  });

  it('an afterSeq older than what retention kept starts at the oldest kept seq', async () => {
    await h.trimmer.trimHistory(roomId, 4);
    // The memory store keeps trimmed events; the query still starts at the cut (seq 4).
    expect(seqs(await h.chat.roomEvents(bob, roomId, 0, null))).toEqual([4, 5, 6]);
  });

  it('refuses a bad afterSeq or limit; only for those who may read the room', async () => {
    await expectRejects(() => h.chat.roomEvents(bob, roomId, -1, null), 'invalid_input', 'afterSeq must be a whole number ≥ 0');
    await expectRejects(() => h.chat.roomEvents(bob, roomId, 0, 1_001), 'invalid_input', 'limit must be between 1 and 1000');
    const secret = await h.chat.createRoom(ada, 'secret', 'password1');
    await expectRejects(() => h.chat.roomEvents(bob, secret.id, 0, null), 'forbidden');
    await expectRejects(() => h.chat.roomEvents(null, roomId, 0, null), 'unauthenticated');
  });
});
