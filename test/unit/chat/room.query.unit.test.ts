import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ada, chatHarness, expectRejects, type ChatHarness } from './harness.js';

let h: ChatHarness;
beforeEach(async () => (h = await chatHarness()));
afterEach(() => h.close());

describe('room (query)', () => {
  it('any room by id, private ones too, without a session; null for none', async () => {
    const secret = await h.chat.createRoom(ada, 'secret', 'pw');
    expect(await h.chat.room(secret.id)).toEqual(secret);
    expect(await h.chat.room('nope')).toBeNull();
  });

  it('refuses an id that cannot be one', async () => {
    await expectRejects(() => h.chat.room(''), 'invalid_input', 'roomId is not a valid id');
  });
});
