import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ada, bob, chatHarness, expectRejects, type ChatHarness } from './harness.js';

let h: ChatHarness;
beforeEach(async () => (h = await chatHarness()));
afterEach(() => h.close());

describe('room (query)', () => {
  it('a public room in full to anyone, with or without a session; null for none', async () => {
    const lobby = await h.chat.createRoom(ada, 'lobby');
    expect(await h.chat.room(null, lobby.id)).toEqual(lobby);
    expect(await h.chat.room(bob, lobby.id)).toEqual(lobby);
    expect(await h.chat.room(null, 'nope')).toBeNull();
  });

  it('a private room in full to its members; to anyone else only that it exists and is private', async () => {
    const secret = await h.chat.createRoom(ada, 'secret', 'password');
    expect(await h.chat.room(ada, secret.id)).toEqual(secret);
    const hidden = { id: secret.id, private: true, hidden: true };
    expect(await h.chat.room(bob, secret.id)).toEqual(hidden);
    expect(await h.chat.room(null, secret.id)).toEqual(hidden);
    await h.chat.joinRoom(bob, secret.id, 'password');
    expect(await h.chat.room(bob, secret.id)).toMatchObject({ id: secret.id, name: 'secret', memberCount: 2 });
  });

  it('refuses an id that cannot be one', async () => {
    await expectRejects(() => h.chat.room(null, ''), 'invalid_input', 'roomId is not a valid id');
  });
});
