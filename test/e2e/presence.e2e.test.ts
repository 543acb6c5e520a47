/**
 * Presence (docs/api.md): `presence` sends the current state at once, then every change; a user is
 * online while one of their connections follows the room (roomEvents or presence) and goes
 * offline within a few seconds after the last one closes; `typing` clears itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ROOM_EVENTS_SUBSCRIPTION,
  collect,
  collectRoomEvents,
  connectRaw,
  createRoom,
  createUser,
  errorCodes,
  gql,
  http,
  joinRoom,
  wsClient,
  type Collected,
  type UserSession,
} from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import type { ServerHandle } from '../support/nodeProcess.js';

interface Presence {
  roomId: string;
  count: number;
  online: Array<{ id: string; name: string }>;
  typing: Array<{ id: string; name: string }>;
}

/** "Within a few seconds" (docs/api.md), with the bound the tests hold the server to. */
const FEW_SECONDS = 5_000;
const PRESENCE = 'subscription($roomId: ID!) { presence(roomId: $roomId) { roomId count online { id name } typing { id name } } }';

let node: ServerHandle;
let alice: UserSession;

beforeAll(async () => {
  node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
  alice = await createUser(node.url, 'alice');
});

// Hooks run in reverse order: the graceful stop (and its exit code check) first, then the sweep.
afterAll(stopAllInProcessNodes);
afterAll(async () => {
  expect(await node?.stop()).toBe(0);
});

const isOnline = (items: Presence[], user: UserSession) => items.at(-1)?.online.some((u) => u.id === user.user.id) ?? false;
const isTyping = (items: Presence[], user: UserSession) => items.at(-1)?.typing.some((u) => u.id === user.user.id) ?? false;

/** Alice watches the room's presence. */
function watch(roomId: string) {
  const client = wsClient(node.wsUrl, alice.token);
  const presence = collect<Presence>(client, { query: PRESENCE, variables: { roomId } }, 'presence');
  return { client, presence };
}

async function timeUntil(presence: Collected<Presence>, predicate: (items: Presence[]) => boolean, label: string): Promise<number> {
  const started = Date.now();
  await presence.waitFor(predicate, 15_000, label);
  return Date.now() - started;
}

describe('presence', () => {
  it('sends the current state at once, shows a subscriber online, and takes them offline when the socket closes', async () => {
    const room = await createRoom(node.url, alice.token, 'presence');
    const bob = await createUser(node.url, 'bob');
    const watcher = watch(room.id);
    const bobClient = wsClient(node.wsUrl, bob.token);
    try {
      await watcher.presence.waitFor((items) => items.length >= 1, 5_000, 'the current state at once');
      expect(watcher.presence.items[0]!.roomId).toBe(room.id);
      // The watcher follows the room itself, so alice shows up too.
      await watcher.presence.waitFor((items) => isOnline(items, alice), FEW_SECONDS, 'the watcher is online');

      collectRoomEvents(bobClient, room.id);
      await watcher.presence.waitFor((items) => isOnline(items, bob), FEW_SECONDS, 'bob online');
      const latest = watcher.presence.items.at(-1)!;
      expect(latest.count).toBe(latest.online.length);
      expect(latest.online.find((u) => u.id === bob.user.id)!.name).toBe('bob');

      // The Room.presence field agrees.
      const viaQuery = await gql<{ room: { presence: Presence } }>(
        node.url,
        'query($id: ID!) { room(id: $id) { presence { online { id } } } }',
        { id: room.id },
        alice.token,
      );
      expect(viaQuery.room.presence.online.map((u) => u.id)).toContain(bob.user.id);

      await bobClient.dispose();
      const tookMs = await timeUntil(watcher.presence, (items) => !isOnline(items, bob), 'bob offline after his socket closed');
      expect(tookMs).toBeLessThanOrEqual(FEW_SECONDS);
      expect(isOnline(watcher.presence.items, alice)).toBe(true);
    } finally {
      await Promise.all([watcher.client.dispose(), bobClient.dispose()]);
    }
  });

  it('stays online while one of two connections is left, and goes offline when a dropped TCP connection was the last', async () => {
    const room = await createRoom(node.url, alice.token, 'two tabs');
    const carol = await createUser(node.url, 'carol');
    const watcher = watch(room.id);
    const tabOne = wsClient(node.wsUrl, carol.token);
    const tabTwo = await connectRaw(node.wsUrl);
    try {
      collect<Presence>(tabOne, { query: PRESENCE, variables: { roomId: room.id } }, 'presence');
      await tabTwo.init(carol.token);
      tabTwo.send({ id: 'events', type: 'subscribe', payload: { query: ROOM_EVENTS_SUBSCRIPTION, variables: { roomId: room.id } } });
      await watcher.presence.waitFor((items) => isOnline(items, carol), FEW_SECONDS, 'carol online');

      await tabOne.dispose();
      // Under test: she must stay online through this window, in which closing her only
      // connection would already have started taking her offline.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(isOnline(watcher.presence.items, carol), 'carol still has a connection').toBe(true);

      // No close frame: the TCP connection just goes away.
      tabTwo.ws.terminate();
      const tookMs = await timeUntil(watcher.presence, (items) => !isOnline(items, carol), 'carol offline after her last connection dropped');
      expect(tookMs).toBeLessThanOrEqual(FEW_SECONDS);
    } finally {
      tabTwo.close();
      await Promise.all([watcher.client.dispose(), tabOne.dispose()]);
    }
  });
});

describe('typing', () => {
  it('shows who is typing and clears itself after a few seconds', async () => {
    const room = await createRoom(node.url, alice.token, 'typing');
    const dave = await createUser(node.url, 'dave');
    await joinRoom(node.url, dave.token, room.id);
    const watcher = watch(room.id);
    try {
      await watcher.presence.waitFor((items) => items.length >= 1, 5_000, 'the current state');
      const set = await gql<{ setTyping: boolean }>(node.url, 'mutation($roomId: ID!) { setTyping(roomId: $roomId, typing: true) }', { roomId: room.id }, dave.token);
      expect(set.setTyping).toBe(true);
      await watcher.presence.waitFor((items) => isTyping(items, dave), FEW_SECONDS, 'dave typing');

      const started = Date.now();
      await watcher.presence.waitFor((items) => !isTyping(items, dave), 15_000, 'typing clears itself');
      const tookMs = Date.now() - started;
      expect(tookMs).toBeGreaterThanOrEqual(1_000);
      expect(tookMs).toBeLessThanOrEqual(10_000);

      // And typing: false clears it at once.
      await gql(node.url, 'mutation($roomId: ID!) { setTyping(roomId: $roomId, typing: true) }', { roomId: room.id }, dave.token);
      await watcher.presence.waitFor((items) => isTyping(items, dave), FEW_SECONDS, 'dave typing again');
      await gql(node.url, 'mutation($roomId: ID!) { setTyping(roomId: $roomId, typing: false) }', { roomId: room.id }, dave.token);
      expect(await timeUntil(watcher.presence, (items) => !isTyping(items, dave), 'typing: false')).toBeLessThan(1_000);
    } finally {
      await watcher.client.dispose();
    }
  });

  it('needs a session', async () => {
    const room = await createRoom(node.url, alice.token, 'typing without a session');
    const response = await http(node.url, 'mutation($roomId: ID!) { setTyping(roomId: $roomId, typing: true) }', { roomId: room.id });
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });
});
