import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ada, bob, chatHarness, expectRejects, publicRoom, type ChatHarness } from './harness.js';

let h: ChatHarness;
beforeEach(async () => (h = await chatHarness()));
afterEach(() => h.close());

describe('leaveRoom', () => {
  it('leaves, and answers with the room after the leave (read models waited for)', async () => {
    const id = await publicRoom(h);
    const room = await h.chat.leaveRoom(bob, id);
    expect(room.memberCount).toBe(1);
    expect((await h.logTypes(id)).at(-1)).toBe('MemberLeft');
    expect(h.waited.at(-1)).toBe(await h.store.headPosition());
  });

  it('leaving a room one is not in appends nothing', async () => {
    const id = await publicRoom(h, { withBob: false });
    expect((await h.chat.leaveRoom(bob, id)).memberCount).toBe(1);
    expect(await h.logTypes(id)).toEqual(['RoomCreated', 'MemberJoined']);
  });

  it('needs a session and a room that exists', async () => {
    await expectRejects(() => h.chat.leaveRoom(null, 'r1'), 'unauthenticated');
    await expectRejects(() => h.chat.leaveRoom(ada, 'nope'), 'not_found', 'room not found');
  });
});
