import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ada, chatHarness, type ChatHarness } from './harness.js';

let h: ChatHarness;
beforeEach(async () => (h = await chatHarness()));
afterEach(() => h.close());

describe('rooms (query)', () => {
  it('lists public rooms only, most active first', async () => {
    const quiet = await h.chat.createRoom(ada, 'quiet');
    await h.chat.createRoom(ada, 'secret', 'password1');
    const busy = await h.chat.createRoom(ada, 'busy');
    await h.chat.sendMessage(ada, busy.id, 'hi', 'c1');
    await h.chat.sendMessage(ada, quiet.id, 'hi', 'c1');
    await h.chat.sendMessage(ada, busy.id, 'hi again', 'c2');
    // Sends do not wait for the read models; a command that does brings them up to date.
    await h.chat.leaveRoom(ada, 'nope').catch(() => {});
    await expect.poll(async () => (await h.chat.rooms()).map((room) => room.name)).toEqual(['busy', 'quiet']);
  });
});
