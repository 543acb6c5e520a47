import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ada, bob, chatHarness, expectRejects, type ChatHarness } from './harness.js';

let h: ChatHarness;
beforeEach(async () => (h = await chatHarness()));
afterEach(() => h.close());

describe('joinRoom', () => {
  it('joins a public room without a password, and answers with the room after the join', async () => {
    const { id } = await h.chat.createRoom(ada, 'lobby');
    const room = await h.chat.joinRoom(bob, id);
    expect(room.memberCount).toBe(2);
    expect(await h.logTypes(id)).toEqual(['RoomCreated', 'MemberJoined', 'MemberJoined']);
  });

  it('joins a private room only with its password', async () => {
    const { id } = await h.chat.createRoom(ada, 'secret', 'hunter2');
    await expectRejects(() => h.chat.joinRoom(bob, id), 'forbidden', 'wrong password for this private room');
    await expectRejects(() => h.chat.joinRoom(bob, id, 'hunter3'), 'forbidden', 'wrong password for this private room');
    expect((await h.chat.joinRoom(bob, id, 'hunter2')).memberCount).toBe(2);
  });

  it('a second join appends nothing (a member needs no password again)', async () => {
    const { id } = await h.chat.createRoom(ada, 'secret', 'hunter2');
    const before = await h.logTypes(id);
    expect((await h.chat.joinRoom(ada, id)).memberCount).toBe(1);
    expect(await h.logTypes(id)).toEqual(before);
  });

  it('needs a session, a valid id, and a room that exists', async () => {
    await expectRejects(() => h.chat.joinRoom(null, 'r1'), 'unauthenticated');
    await expectRejects(() => h.chat.joinRoom(bob, ''), 'invalid_input', 'roomId is not a valid id');
    await expectRejects(() => h.chat.joinRoom(bob, 'nope'), 'not_found', 'room not found');
  });
});
