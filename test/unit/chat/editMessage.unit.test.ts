import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ada, bob, chatHarness, expectRejects, publicRoom, type ChatHarness } from './harness.js';

let h: ChatHarness;
let roomId: string;
let messageId: string;
beforeEach(async () => {
  h = await chatHarness({ maxBodyChars: 10 });
  roomId = await publicRoom(h);
  ({ id: messageId } = await h.chat.sendMessage(ada, roomId, 'hello', 'c1'));
});
afterEach(() => h.close());

describe('editMessage', () => {
  it('the author replaces the body; the answer is the view after the edit', async () => {
    const view = await h.chat.editMessage(ada, messageId, 'hi there');
    expect(view).toMatchObject({ id: messageId, body: 'hi there', deleted: false });
    expect(view.editedAt).not.toBeNull();
    expect(await h.readModels.message(messageId)).toEqual(view);
  });

  it('only the author, only a message that exists, only a body within the limits', async () => {
    await expectRejects(() => h.chat.editMessage(bob, messageId, 'mine now'), 'forbidden', 'only the author may change a message');
    await expectRejects(() => h.chat.editMessage(ada, `${roomId}~nope`, 'x'), 'not_found', 'message not found');
    await expectRejects(() => h.chat.editMessage(ada, 'no-room-in-this-id', 'x'), 'not_found', 'message not found');
    await expectRejects(() => h.chat.editMessage(ada, messageId, 'x'.repeat(11)), 'too_large', 'message body is 11 characters; the limit is 10');
    await expectRejects(() => h.chat.editMessage(ada, messageId, ' '), 'invalid_input', 'message body must not be empty');
    await expectRejects(() => h.chat.editMessage(null, messageId, 'x'), 'unauthenticated');
  });

  it('a deleted message cannot be edited', async () => {
    await h.chat.deleteMessage(ada, messageId);
    await expectRejects(() => h.chat.editMessage(ada, messageId, 'back'), 'invalid_input', 'the message was deleted');
  });
});
