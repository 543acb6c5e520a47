/**
 * The client library (client/src) against a real node: a room's events as an async iterable and
 * as callbacks, seq tracking, idempotent send, presence and typing, RATE_LIMITED with its
 * retryAfterMs, final errors, and resuming across a node restart on the same address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ChatClientError, createChatClient, type Presence, type RoomEvent } from '../../client/src/index.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import type { ServerHandle } from '../support/nodeProcess.js';
import { liveSubscriptions, waitFor, waitForSubscriptions } from '../support/signals.js';
import { assertContiguous, bodies, closeAllClients, collectUntil, newUser, track } from './helpers.js';

let node: ServerHandle;

beforeAll(async () => {
  node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '6', RATE_LIMIT_WINDOW_MS: '60000' } });
});
afterAll(stopAllInProcessNodes);
afterAll(closeAllClients);

describe('a room as an async iterable', () => {
  it('replays from afterSeq: 0, then goes live, in seq order; send resolves to the stored Message', async () => {
    const { client } = await newUser(node.url, 'ada');
    const room = await client.createRoom('iterable');
    const events = client.roomEvents(room.id, { afterSeq: 0 });
    const sent = await client.send(room.id, 'one');
    expect(sent).toMatchObject({ roomId: room.id, body: 'one', seq: 3, deleted: false, author: { name: 'ada' } });
    await client.send(room.id, 'two');
    const got = await collectUntil(events, (e) => e.length >= 4);
    expect(got.map((e) => e.__typename)).toEqual(['RoomCreated', 'MemberJoined', 'MessagePosted', 'MessagePosted']);
    expect(got.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(bodies(got)).toEqual(['one', 'two']);
    expect(events.lastSeq).toBe(4);
    await events.return!();
  });

  it('starts at the room head without afterSeq, and the callback form sees the same events', async () => {
    const { client } = await newUser(node.url, 'bea');
    const room = await client.createRoom('live');
    await client.send(room.id, 'before');
    const seen: RoomEvent[] = [];
    const feed = client.onRoomEvents(room.id, (event) => seen.push(event));
    const events = client.roomEvents(room.id);
    // Both feeds have their position (the head) once they hold it; wait for that before sending.
    await waitFor(() => feed.lastSeq !== undefined && events.lastSeq !== undefined, 2_500, 'both feeds hold their position');
    expect(feed.lastSeq).toBe(3);
    const edited = await client.send(room.id, 'after');
    await client.editMessage(edited.id, 'after, edited');
    await client.deleteMessage(edited.id);
    const got = await collectUntil(events, (e) => e.length >= 3);
    expect(got.map((e) => [e.seq, e.__typename])).toEqual([
      [4, 'MessagePosted'],
      [5, 'MessageEdited'],
      [6, 'MessageDeleted'],
    ]);
    await waitFor(() => seen.length >= 3, 2_500, 'the callback form saw three events').catch(() => {});
    expect(seen.map((e) => e.seq)).toEqual([4, 5, 6]);
    feed.unsubscribe();
    await events.return!();
  });

  it('ends with a final error for a private room the user has not joined', async () => {
    const { client: owner } = await newUser(node.url, 'owner');
    const room = await owner.createRoom('vault', 'open sesame');
    const { client: stranger } = await newUser(node.url, 'stranger');
    const events = stranger.roomEvents(room.id, { afterSeq: 0 });
    await expect(events.next()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(stranger.joinRoom(room.id, 'wrong')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(stranger.joinRoom(room.id, 'open sesame')).resolves.toMatchObject({ id: room.id, private: true });
  });

  it('a refused token closes the client with UNAUTHENTICATED instead of reconnecting', async () => {
    const client = track(createChatClient({ url: node.url, token: 'not-a-token', webSocketImpl: WebSocket }));
    await expect(client.rooms()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(client.status).toBe('closed');
  });
});

describe('send', () => {
  it('is idempotent: the same clientMessageId stores one message', async () => {
    const { client } = await newUser(node.url, 'cid');
    const room = await client.createRoom('idempotent');
    const first = await client.send(room.id, 'once', { clientMessageId: 'fixed-id' });
    const again = await client.send(room.id, 'once', { clientMessageId: 'fixed-id' });
    expect(again).toEqual(first);
    expect((await client.room(room.id))?.headSeq).toBe(first.seq);
  });

  it('surfaces RATE_LIMITED with retryAfterMs, and the user gets a notice', async () => {
    const { client } = await newUser(node.url, 'fast');
    const room = await client.createRoom('limits');
    const before = await liveSubscriptions(node.url);
    const notices = client.notices();
    await waitForSubscriptions(node.url, before + 1); // the notices subscription is live before the limit trips
    let error: unknown;
    try {
      // rateLimitRetries 0: the refusal itself, not the library's own retries after it.
      for (let i = 0; i < 10; i++) await client.send(room.id, `burst ${i}`, { rateLimitRetries: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ChatClientError);
    expect(error).toMatchObject({ code: 'RATE_LIMITED' });
    expect((error as ChatClientError).retryAfterMs).toBeGreaterThan(0);
    const notice = await notices.next();
    expect(notice.value).toMatchObject({ kind: 'RATE_LIMITED' });
    await notices.return!();
  });

  it('sends a refused message again by itself after retryAfterMs, once, in order', async () => {
    // A limit of 2 per second: a burst of 2, then one every 500 ms.
    const fast = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '2', RATE_LIMIT_WINDOW_MS: '1000' } });
    const { client } = await newUser(fast.url, 'eager');
    const room = await client.createRoom('retries');
    const started = Date.now();
    const sent = [];
    for (let i = 0; i < 4; i++) sent.push(await client.send(room.id, `eager ${i}`));
    expect(Date.now() - started).toBeGreaterThanOrEqual(400); // the last ones waited for the limit
    expect(sent.map((m) => m.body)).toEqual(['eager 0', 'eager 1', 'eager 2', 'eager 3']);
    const history = await client.messages(room.id);
    expect(history.map((m) => m.body)).toEqual(['eager 0', 'eager 1', 'eager 2', 'eager 3']);
    await client.close();
    await fast.stop();
  });
});

describe('presence', () => {
  it('shows who follows the room and who types', async () => {
    const { client: ada } = await newUser(node.url, 'ada-p');
    const room = await ada.createRoom('presence');
    const { client: bob, userId: bobId } = await newUser(node.url, 'bob-p');
    await bob.joinRoom(room.id);
    const presence = ada.presence(room.id);
    const bobFeed = bob.onRoomEvents(room.id, () => {});
    const until = async (check: (p: Presence) => boolean) => {
      for (;;) {
        const { value } = await presence.next();
        if (check(value as Presence)) return value as Presence;
      }
    };
    const online = await until((p) => p.online.some((u) => u.id === bobId));
    expect(online.online.map((u) => u.name)).toContain('bob-p');
    await bob.setTyping(room.id, true);
    const typing = await until((p) => p.typing.some((u) => u.id === bobId));
    expect(typing.typing.map((u) => u.name)).toEqual(['bob-p']);
    bobFeed.unsubscribe();
    await presence.return!();
  });
});

describe('reconnect', () => {
  it('resumes after its node restarts on the same address: exactly the missing events, and sends made meanwhile stored once', async () => {
    const restartable = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
    const { client: reader } = await newUser(restartable.url, 'reader', { backoff: { initialMs: 100, maxMs: 1_000 } });
    const { client: writer } = await newUser(restartable.url, 'writer', { backoff: { initialMs: 100, maxMs: 1_000 } });
    const room = await reader.createRoom('restart');
    await writer.joinRoom(room.id);
    const events = reader.roomEvents(room.id, { afterSeq: 0 });
    for (let i = 0; i < 5; i++) await writer.send(room.id, `before ${i}`);
    const got = await collectUntil(events, (e) => e.length >= 8);

    const statuses: string[] = [];
    reader.onStatus((s) => statuses.push(s));
    await restartable.stop();
    // Both clients send while the node is down: the sends wait, reconnect and are stored once.
    const during = [...Array.from({ length: 3 }, (_, i) => writer.send(room.id, `during w${i}`)), ...Array.from({ length: 3 }, (_, i) => reader.send(room.id, `during r${i}`))];
    // Both clients know the node is gone and hold their sends for a retry.
    await waitFor(() => reader.status === 'reconnecting' && writer.status === 'reconnecting', 10_000, 'both clients retrying while the node is down');
    const again = await startInProcessNode({ dataDir: restartable.dataDir, env: { PORT: String(restartable.port), RATE_LIMIT_MESSAGES: '0' } });
    expect(again.port).toBe(restartable.port);
    await Promise.all(during);
    for (let i = 0; i < 3; i++) await writer.send(room.id, `after ${i}`);

    await collectUntil(events, (e) => bodies(e).filter((b) => b.startsWith('after')).length >= 3, 20_000, got);
    assertContiguous(got);
    expect(got[0]!.seq).toBe(1);
    const all = bodies(got);
    expect(new Set(all).size).toBe(all.length);
    expect(all.filter((b) => b.startsWith('during')).sort()).toEqual(['during r0', 'during r1', 'during r2', 'during w0', 'during w1', 'during w2']);
    expect(statuses).toContain('reconnecting');
    expect(reader.status).toBe('connected');
    await events.return!();
  });
});
