import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ada, bob, chatHarness, expectRejects, publicRoom, type ChatHarness } from './harness.js';

let h: ChatHarness;
let roomId: string;
let messageId: string;
beforeEach(async () => {
  h = await chatHarness();
  roomId = await publicRoom(h);
  ({ id: messageId } = await h.chat.sendMessage(ada, roomId, 'hello', 'c1'));
});
afterEach(() => h.close());

describe('deleteMessage', () => {
  it('the author deletes; the view stays, marked deleted and without its body', async () => {
    const view = await h.chat.deleteMessage(ada, messageId);
    expect(view).toMatchObject({ id: messageId, deleted: true, body: '' });
    expect(await h.readModels.message(messageId)).toEqual(view);
  });

  it('deleting twice appends nothing and answers with the deleted view', async () => {
    await h.chat.deleteMessage(ada, messageId);
    const types = await h.logTypes(roomId);
    expect((await h.chat.deleteMessage(ada, messageId)).deleted).toBe(true);
    expect(await h.logTypes(roomId)).toEqual(types);
  });

  it('only the author, only a message that exists', async () => {
    await expectRejects(() => h.chat.deleteMessage(bob, messageId), 'forbidden', 'only the author may change a message');
    await expectRejects(() => h.chat.deleteMessage(ada, `${roomId}~nope`), 'not_found', 'message not found');
    await expectRejects(() => h.chat.deleteMessage(ada, ''), 'invalid_input', 'messageId is not a valid id');
    await expectRejects(() => h.chat.deleteMessage(null, messageId), 'unauthenticated');
  });
});
