import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ada, bob, chatHarness, expectRejects, type ChatHarness } from './harness.js';

let h: ChatHarness;
let roomId: string;
beforeEach(async () => {
  h = await chatHarness();
  ({ id: roomId } = await h.chat.createRoom(ada, 'lobby')); // seqs 1-2
  for (const n of [1, 2, 3, 4]) await h.chat.sendMessage(ada, roomId, `m${n}`, `c${n}`); // seqs 3-6
  await h.chat.editMessage(ada, (await h.chat.sendMessage(ada, roomId, 'm5', 'c5')).id, 'm5 edited'); // waits for the read models
});
afterEach(() => h.close());

const bodies = (list: Array<{ body: string }>) => list.map((m) => m.body);

describe('messages (query)', () => {
  it('history with edits applied, ascending; the newest 50 by default', async () => {
    expect(bodies(await h.chat.messages(bob, roomId, {}))).toEqual(['m1', 'm2', 'm3', 'm4', 'm5 edited']);
  });

  it('pages: the newest `limit` before `before`, or the oldest `limit` after `after`', async () => {
    expect(bodies(await h.chat.messages(bob, roomId, { before: 7, limit: 2 }))).toEqual(['m3', 'm4']);
    expect(bodies(await h.chat.messages(bob, roomId, { after: 3, limit: 2 }))).toEqual(['m2', 'm3']);
    expect(bodies(await h.chat.messages(bob, roomId, { before: null, after: null, limit: null }))).toHaveLength(5);
  });

  it('refuses ranges that cannot be', async () => {
    await expectRejects(() => h.chat.messages(bob, roomId, { before: -1 }), 'invalid_input', 'before must be a whole number ≥ 0');
    await expectRejects(() => h.chat.messages(bob, roomId, { after: 1.5 }), 'invalid_input', 'after must be a whole number ≥ 0');
    await expectRejects(() => h.chat.messages(bob, roomId, { limit: 201 }), 'invalid_input', 'limit must be between 1 and 200');
  });

  it('only for those who may read the room (checked before the range)', async () => {
    const secret = await h.chat.createRoom(ada, 'secret', 'password1');
    await expectRejects(() => h.chat.messages(bob, secret.id, { limit: 0 }), 'forbidden');
    await expectRejects(() => h.chat.messages(null, roomId, {}), 'unauthenticated');
    await expectRejects(() => h.chat.messages(bob, 'nope', {}), 'not_found', 'room not found');
  });
});
