/**
 * Issue 11, finding 5: after leaveRoom, a former member of a private room kept receiving its new
 * messages on subscriptions opened before the leave. Now the leave (a MemberLeft event, which every
 * node's room hub sees in order) ends the leaver's roomEvents and presence subscriptions to the
 * room, over WebSocket and SSE, on whichever node they are: FORBIDDEN for a private room, a plain
 * end for a public one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  ROOM_EVENTS_SUBSCRIPTION,
  collect,
  collectRoomEvents,
  createRoom,
  createUser,
  errorCodes,
  joinRoom,
  sendMessage,
  sleep,
  wsClient,
  type Collected,
  type GqlError,
} from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes, type InProcessNode } from '../support/inProcessNode.js';
import { startRedis, stopAllRedis } from '../support/redisServer.js';
import { liveSubscriptions, waitForSubscriptions } from '../support/signals.js';
import { LEAVE, post, sse, type SseStream } from './requests.js';

afterAll(stopAllRedis);
afterAll(stopAllInProcessNodes);

const PASSWORD = 'members only please';
const PRESENCE = 'subscription($roomId: ID!) { presence(roomId: $roomId) { count } }';

/** The error codes a graphql-ws subscription ended with (waits for its end, bounded). */
async function endedWith(sub: Collected<unknown>, label: string): Promise<string[]> {
  await Promise.race([sub.done, sleep(10_000).then(() => Promise.reject(new Error(`${label} did not end within 10 s`)))]);
  return Array.isArray(sub.error) ? errorCodes(sub.error as GqlError[]) : sub.completed ? [] : [`not GraphQL errors: ${String(sub.error)}`];
}

async function sseEndedWith(stream: SseStream, label: string): Promise<string[]> {
  await Promise.race([stream.ended, sleep(10_000).then(() => Promise.reject(new Error(`${label} over SSE did not end within 10 s`)))]);
  return stream.payloads.flatMap((p) => errorCodes(p.errors ?? []));
}

/** Opens the four subscriptions a client may hold on a room and waits until the node has them all. */
async function subscribeEverywhere(node: InProcessNode, token: string, roomId: string) {
  const before = await liveSubscriptions(node.url);
  const client = wsClient(node.wsUrl, token);
  const wsEvents = collectRoomEvents(client, roomId);
  const wsPresence = collect<unknown>(client, { query: PRESENCE, variables: { roomId } }, 'presence');
  const sseEvents = await sse(node.url, ROOM_EVENTS_SUBSCRIPTION, { roomId }, token);
  const ssePresence = await sse(node.url, PRESENCE, { roomId }, token);
  await waitForSubscriptions(node.url, before + 4);
  return { client, wsEvents, wsPresence, sseEvents, ssePresence };
}

describe('leaving a private room', () => {
  it('ends the leaver’s roomEvents and presence subscriptions, over WebSocket and SSE, with FORBIDDEN', async () => {
    const node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
    const owner = await createUser(node.url, 'owner');
    const member = await createUser(node.url, 'member');
    const room = await createRoom(node.url, owner.token, 'club', PASSWORD);
    await joinRoom(node.url, member.token, room.id, PASSWORD);
    const subs = await subscribeEverywhere(node, member.token, room.id);
    try {
      const hello = await sendMessage(node.url, owner.token, room.id, 'before the leave');
      await subs.wsEvents.waitFor((items) => items.some((e) => e.message?.id === hello.id), 10_000, 'a message before the leave');

      expect((await post(node.url, LEAVE, { roomId: room.id }, { token: member.token })).errors).toBeUndefined();
      expect(await endedWith(subs.wsEvents as Collected<unknown>, 'roomEvents over WebSocket')).toEqual(['FORBIDDEN']);
      expect(await endedWith(subs.wsPresence, 'presence over WebSocket')).toEqual(['FORBIDDEN']);
      expect(await sseEndedWith(subs.sseEvents, 'roomEvents')).toEqual(['FORBIDDEN']);
      expect(await sseEndedWith(subs.ssePresence, 'presence')).toEqual(['FORBIDDEN']);

      // Nothing posted after the leave reaches the former member.
      const after = await sendMessage(node.url, owner.token, room.id, 'after the leave');
      await sleep(300);
      const seen = [...subs.wsEvents.items, ...subs.sseEvents.payloads.map((p) => p.data?.roomEvents as { message?: { id: string } } | undefined)];
      expect(seen.some((e) => e?.message?.id === after.id)).toBe(false);
      // The leave itself was the last thing the WebSocket subscriber got.
      expect(subs.wsEvents.items.at(-1)).toMatchObject({ __typename: 'MemberLeft', user: { id: member.user.id } });
    } finally {
      subs.sseEvents.close();
      subs.ssePresence.close();
      await subs.client.dispose();
    }
    await node.stop();
  });

  it('an old leave in the replayed history does not end a rejoined member’s subscription', async () => {
    const node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
    const owner = await createUser(node.url, 'owner');
    const member = await createUser(node.url, 'member');
    const room = await createRoom(node.url, owner.token, 'club', PASSWORD);
    await joinRoom(node.url, member.token, room.id, PASSWORD);
    await post(node.url, LEAVE, { roomId: room.id }, { token: member.token });
    await joinRoom(node.url, member.token, room.id, PASSWORD);
    const client = wsClient(node.wsUrl, member.token);
    try {
      const events = collectRoomEvents(client, room.id, 0);
      const later = await sendMessage(node.url, owner.token, room.id, 'still here');
      await events.waitFor((items) => items.some((e) => e.message?.id === later.id), 10_000, 'the message after the rejoin');
      expect(events.items.filter((e) => e.__typename === 'MemberLeft')).toHaveLength(1);
      expect(events.error).toBeUndefined();
      expect(events.completed).toBe(false);
    } finally {
      await client.dispose();
    }
    await node.stop();
  });

  it('a leave served by another node ends the subscriptions held on this one', async () => {
    const redis = await startRedis();
    const env = { RATE_LIMIT_MESSAGES: '0', REDIS_URL: redis.url, JWT_SECRET: randomBytes(24).toString('base64url') };
    const a = await startInProcessNode({ env: { ...env, NODE_ID: 'leave-a' } });
    const b = await startInProcessNode({ env: { ...env, NODE_ID: 'leave-b' }, dataDir: a.dataDir });
    const owner = await createUser(a.url, 'owner');
    const member = await createUser(a.url, 'member');
    const room = await createRoom(a.url, owner.token, 'club', PASSWORD);
    await joinRoom(a.url, member.token, room.id, PASSWORD);
    const subs = await subscribeEverywhere(b, member.token, room.id);
    try {
      expect((await post(a.url, LEAVE, { roomId: room.id }, { token: member.token })).errors).toBeUndefined();
      expect(await endedWith(subs.wsEvents as Collected<unknown>, 'roomEvents on the other node')).toEqual(['FORBIDDEN']);
      expect(await endedWith(subs.wsPresence, 'presence on the other node')).toEqual(['FORBIDDEN']);
      expect(await sseEndedWith(subs.sseEvents, 'roomEvents on the other node')).toEqual(['FORBIDDEN']);
      expect(await sseEndedWith(subs.ssePresence, 'presence on the other node')).toEqual(['FORBIDDEN']);
    } finally {
      subs.sseEvents.close();
      subs.ssePresence.close();
      await subs.client.dispose();
    }
    await b.stop();
    await a.stop();
  });
});

describe('leaving a public room', () => {
  it('ends the leaver’s subscriptions without an error; other members keep theirs', async () => {
    const node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
    const owner = await createUser(node.url, 'owner');
    const member = await createUser(node.url, 'member');
    const room = await createRoom(node.url, owner.token, 'lobby');
    await joinRoom(node.url, member.token, room.id);
    const before = await liveSubscriptions(node.url);
    const memberClient = wsClient(node.wsUrl, member.token);
    const ownerClient = wsClient(node.wsUrl, owner.token);
    try {
      const leaving = collectRoomEvents(memberClient, room.id);
      const staying = collectRoomEvents(ownerClient, room.id);
      await waitForSubscriptions(node.url, before + 2);
      await post(node.url, LEAVE, { roomId: room.id }, { token: member.token });
      expect(await endedWith(leaving as Collected<unknown>, 'the leaver’s roomEvents')).toEqual([]);
      const after = await sendMessage(node.url, owner.token, room.id, 'the owner stays');
      await staying.waitFor((items) => items.some((e) => e.message?.id === after.id), 10_000, 'the owner’s own message');
    } finally {
      await memberClient.dispose();
      await ownerClient.dispose();
    }
    await node.stop();
  });
});
