import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ada, bob, chatHarness, expectRejects, type ChatHarness } from './harness.js';

let h: ChatHarness;
beforeEach(async () => (h = await chatHarness()));
afterEach(() => h.close());

describe('RoomAccess.assertCanRead', () => {
  it('anyone with a session reads a public room; oldestSeq is 1 until retention removes messages', async () => {
    const { id } = await h.chat.createRoom(ada, 'lobby');
    // Checked at seq 2 (RoomCreated, the creator's join): a leave after it ends bob's subscriptions.
    expect(await h.access.assertCanRead(bob, id)).toEqual({ user: bob, oldestSeq: 1, checkedAt: 2, private: false });
    await h.chat.sendMessage(ada, id, 'hi', 'c1');
    await h.trimmer.trimHistory(id, 4);
    expect((await h.access.assertCanRead(bob, id)).oldestSeq).toBe(4);
  });

  it('a private room only its members, and at once after a join (not via the read models)', async () => {
    const { id } = await h.chat.createRoom(ada, 'secret', 'password1');
    await expectRejects(() => h.access.assertCanRead(bob, id), 'forbidden', 'this room is private: join it with its password first');
    expect((await h.access.assertCanRead(ada, id)).user).toEqual(ada);
    await h.chat.joinRoom(bob, id, 'password1');
    expect((await h.access.assertCanRead(bob, id)).user).toEqual(bob);
  });

  it('needs a session, a valid id and a room that exists', async () => {
    await expectRejects(() => h.access.assertCanRead(null, 'r'), 'unauthenticated');
    await expectRejects(() => h.access.assertCanRead(bob, ''), 'invalid_input', 'roomId is not a valid id');
    await expectRejects(() => h.access.assertCanRead(bob, 'nope'), 'not_found', 'room not found');
  });

  it('is what the use cases offer the Room.presence field', async () => {
    const { id } = await h.chat.createRoom(ada, 'secret', 'password1');
    await expectRejects(() => h.chat.assertCanRead(bob, id), 'forbidden');
  });
});
