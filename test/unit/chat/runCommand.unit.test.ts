import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noticeChannel, roomChannel } from '../../../src/broker/broker.js';
import { notify, rateLimitedNotice } from '../../../src/chat/notices.js';
import { runCommand } from '../../../src/chat/runCommand.js';
import { ada, chatHarness, type ChatHarness } from './harness.js';

let h: ChatHarness;
let roomId: string;
beforeEach(async () => {
  h = await chatHarness();
  ({ id: roomId } = await h.chat.createRoom(ada, 'lobby'));
});
afterEach(() => h.close());

const post = (clientMessageId: string) => () => ({ type: 'PostMessage' as const, author: ada, clientMessageId, body: 'hi' });

describe('runCommand', () => {
  it('executes, counts, publishes each event, then waits for the read models to reach the last one', async () => {
    const published = await h.listen(roomChannel(roomId));
    const outcome = await runCommand(h.ports, 'test', roomId, post('c1'));
    expect(published).toEqual(outcome.events);
    expect(h.waited.at(-1)).toBe(outcome.events.at(-1)!.position);
    // Waited for: the read models have the message when the command resolves.
    const [posted] = outcome.events;
    expect(posted?.type === 'MessagePosted' && (await h.readModels.message(posted.data.messageId))).toMatchObject({ body: 'hi' });
    expect(await h.count(h.metrics.eventsAppended, { type: 'MessagePosted' })).toBe(1);
  });

  it('told not to wait, it does not; an idempotent no-op waits for nothing either', async () => {
    const waits = h.waited.length;
    await runCommand(h.ports, 'test', roomId, post('c1'), { waitForReadModels: false });
    const again = await runCommand(h.ports, 'test', roomId, post('c1'));
    expect(again.events).toEqual([]);
    expect(h.waited).toHaveLength(waits);
  });

  it('read models that lag delay the answer but never fail it', async () => {
    const lagging = { waitFor: () => Promise.reject(new Error('timed out')), rewind: () => {} };
    const outcome = await runCommand({ ...h.ports, progress: lagging }, 'test', roomId, post('c1'));
    expect(outcome.events).toHaveLength(1);
    expect(h.warnings.map(([, message]) => message)).toContain('read models lag');
  });

  it('a refused command rejects, appends and publishes nothing', async () => {
    const published = await h.listen(roomChannel(roomId));
    await expect(runCommand(h.ports, 'test', 'nope', post('c1'))).rejects.toMatchObject({ kind: 'not_found' });
    expect(published).toEqual([]);
  });
});

describe('notices', () => {
  it('notify publishes on the user notice channel; a failed publish is only logged', async () => {
    const received = await h.listen(noticeChannel(ada.id));
    const notice = rateLimitedNotice(1_500, 1_000);
    expect(notice).toEqual({ kind: 'RATE_LIMITED', message: 'You are sending too fast; wait 2 s.', until: 2_500 });
    notify(h.ports, ada.id, notice);
    expect(received).toEqual([notice]);
    h.broken.broker = true;
    notify(h.ports, ada.id, notice);
    await expect.poll(() => h.warnings.map(([, message]) => message)).toContain('notice publish failed');
  });
});
