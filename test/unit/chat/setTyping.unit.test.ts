import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ada, bob, chatHarness, expectRejects, publicRoom, type ChatHarness } from './harness.js';

let h: ChatHarness;
beforeEach(async () => (h = await chatHarness()));
afterEach(() => h.close());

describe('setTyping', () => {
  it('a member typing shows in presence, and stops when told; the log is untouched', async () => {
    const id = await publicRoom(h);
    const types = await h.logTypes(id);
    expect(await h.chat.setTyping(bob, id, true)).toBe(true);
    expect((await h.presence.snapshot(id)).typing).toEqual([bob]);
    expect(await h.chat.setTyping(bob, id, false)).toBe(false);
    expect((await h.presence.snapshot(id)).typing).toEqual([]);
    expect(await h.logTypes(id)).toEqual(types);
  });

  it('members only, in a room that exists', async () => {
    const id = await publicRoom(h, { withBob: false });
    await expectRejects(() => h.chat.setTyping(bob, id, true), 'forbidden', 'join the room first');
    await expectRejects(() => h.chat.setTyping(ada, 'nope', true), 'not_found', 'room not found');
    await expectRejects(() => h.chat.setTyping(null, id, true), 'unauthenticated');
    expect((await h.presence.snapshot(id)).typing).toEqual([]);
  });
});
