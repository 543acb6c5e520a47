import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noticeChannel, roomChannel } from '../../../src/broker/broker.js';
import { sendMessage } from '../../../src/chat/commands/sendMessage.js';
import type { ReadModels } from '../../../src/chat/ports.js';
import { ada, bob, chatHarness, expectRejects, publicRoom, type ChatHarness } from './harness.js';

let h: ChatHarness;
let roomId: string;
beforeEach(async () => {
  h = await chatHarness({ rateLimit: 1, maxBodyChars: 10 });
  roomId = await publicRoom(h);
});
afterEach(() => h.close());

/** The read models, except that their first `message` lookup never answers (Redis away, say). */
function firstLookupHangs(readModels: ReadModels): ReadModels {
  let calls = 0;
  return {
    room: (id) => readModels.room(id),
    publicRooms: (limit) => readModels.publicRooms(limit),
    memberRooms: (userId, limit) => readModels.memberRooms(userId, limit),
    messages: (id, range) => readModels.messages(id, range),
    message: (id) => (++calls === 1 ? new Promise(() => {}) : readModels.message(id)),
  };
}

describe('sendMessage', () => {
  it('appends, publishes and answers from the event, without waiting for the read models', async () => {
    const published = await h.listen(roomChannel(roomId));
    const waitsBefore = h.waited.length;
    const view = await h.chat.sendMessage(bob, roomId, 'hello', 'c1');
    expect(view).toMatchObject({ roomId, seq: 4, body: 'hello', author: bob, deleted: false });
    expect(h.waited).toHaveLength(waitsBefore);
    expect(published).toMatchObject([{ type: 'MessagePosted', seq: 4, data: { messageId: view.id } }]);
    expect(await h.count(h.metrics.eventsAppended, { type: 'MessagePosted' })).toBe(1);
    expect(await h.count(h.metrics.commandSeconds, { command: 'sendMessage' })).toBeGreaterThan(0);
  });

  it('sending ends typing', async () => {
    await h.chat.setTyping(bob, roomId, true);
    await h.chat.sendMessage(bob, roomId, 'hello', 'c1');
    await expect.poll(async () => (await h.presence.snapshot(roomId)).typing).toEqual([]);
  });

  it('a resend answers with the original, appends nothing and is not counted against the rate', async () => {
    const first = await h.chat.sendMessage(bob, roomId, 'hello', 'c1');
    const types = await h.logTypes(roomId);
    expect(await h.chat.sendMessage(bob, roomId, 'hello', 'c1')).toEqual(await h.readModels.message(first.id));
    expect(await h.logTypes(roomId)).toEqual(types);
    // The limit (1) was spent by the first send only: resends still pass, a new message does not.
    expect((await h.chat.sendMessage(bob, roomId, 'hello', 'c1')).id).toBe(first.id);
    await expectRejects(() => h.chat.sendMessage(bob, roomId, 'again', 'c2'), 'rate_limited');
  });

  it('a resend the read models do not answer in time is recognised from the log, still before the rate', async () => {
    const first = await h.chat.sendMessage(bob, roomId, 'hello', 'c1');
    // The limit (1) is spent: were the resend counted, it would be refused.
    const send = sendMessage({ ...h.ports, readModels: firstLookupHangs(h.ports.readModels) });
    const started = Date.now();
    expect((await send(bob, roomId, 'hello', 'c1')).id).toBe(first.id);
    // Waited for the shortcut's 200 ms, no longer.
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a resend while the read models are stalled (their projector died) answers the original from the log at once, deleted if it was', async () => {
    const first = await h.chat.sendMessage(bob, roomId, 'hello', 'c1');
    const gone = await h.chat.sendMessage(ada, roomId, 'bye', 'c2');
    await h.chat.deleteMessage(ada, gone.id);
    // Nothing projected, and nothing ever will be: every wait for the read models runs out.
    const stalled = {
      ...h.ports,
      readModels: { ...h.ports.readModels, message: async () => null },
      progress: { waitFor: () => new Promise<void>(() => {}), rewind: () => {} },
    };
    const send = sendMessage(stalled);
    const started = Date.now();
    expect(await send(bob, roomId, 'hello', 'c1')).toEqual(first);
    expect(await send(ada, roomId, 'bye', 'c2')).toMatchObject({ id: gone.id, seq: gone.seq, deleted: true, body: '' });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('read models that do not answer do not hold a new send', async () => {
    const send = sendMessage({ ...h.ports, readModels: firstLookupHangs(h.ports.readModels) });
    expect((await send(bob, roomId, 'hello', 'c9')).body).toBe('hello');
  });

  it('over the rate: refused with retryAfterMs, counted, the sender told on their notice channel, nothing appended', async () => {
    const notices = await h.listen(noticeChannel(bob.id));
    await h.chat.sendMessage(bob, roomId, 'one', 'c1');
    const types = await h.logTypes(roomId);
    const error = await h.chat.sendMessage(bob, roomId, 'two', 'c2').catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'rate_limited', message: expect.stringMatching(/^too many messages; retry in \d+ s$/) });
    const { retryAfterMs } = error as { retryAfterMs: number };
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(notices).toEqual([
      { kind: 'RATE_LIMITED', message: `You are sending too fast; wait ${Math.ceil(retryAfterMs / 1000)} s.`, until: expect.any(Number) },
    ]);
    expect(await h.count(h.metrics.rateLimited)).toBe(1);
    expect(await h.logTypes(roomId)).toEqual(types);
    // The limit is per user.
    expect((await h.chat.sendMessage(ada, roomId, 'mine', 'c2')).author).toEqual(ada);
  });

  it('checks the session, then the ids, then the body', async () => {
    await expectRejects(() => h.chat.sendMessage(null, '', '', ''), 'unauthenticated');
    await expectRejects(() => h.chat.sendMessage(bob, '', '', ''), 'invalid_input', 'roomId is not a valid id');
    await expectRejects(() => h.chat.sendMessage(bob, roomId, '', ''), 'invalid_input', 'clientMessageId must be 1 to 100 characters');
    await expectRejects(() => h.chat.sendMessage(bob, roomId, ' ', 'c1'), 'invalid_input', 'message body must not be empty');
    await expectRejects(() => h.chat.sendMessage(bob, roomId, 'x'.repeat(11), 'c1'), 'too_large', 'message body is 11 characters; the limit is 10');
  });

  it('members only, in a room that exists; the room decides after the limit, so a refused try counts', async () => {
    const lonely = await h.chat.createRoom(ada, 'lonely');
    await expectRejects(() => h.chat.sendMessage(bob, lonely.id, 'hi', 'c1'), 'forbidden', 'join the room before sending to it');
    await expectRejects(() => h.chat.sendMessage(bob, lonely.id, 'hi', 'c2'), 'rate_limited');
    await expectRejects(() => h.chat.sendMessage(ada, 'nope', 'hi', 'c3'), 'not_found', 'room not found');
  });

  it('a broker that is down does not fail the send', async () => {
    h.broken.broker = true;
    expect((await h.chat.sendMessage(bob, roomId, 'hello', 'c1')).body).toBe('hello');
    expect(await h.count(h.metrics.publishFailures)).toBe(1);
  });
});
