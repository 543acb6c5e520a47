/**
 * The graphql-transport-ws protocol at the edges, with a raw socket: garbage, a bad token, no
 * connection_init, oversized frames, too many operations. Each failure closes (or refuses) only
 * the offending socket, with a named close code; everyone else carries on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ROOM_EVENTS_SUBSCRIPTION,
  collectRoomEvents,
  connectRaw,
  createRoom,
  createUser,
  describeError,
  roomHead,
  sendMessage,
  wsClient,
  type UserSession,
} from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import type { ServerHandle } from '../support/nodeProcess.js';

let node: ServerHandle;
let alice: UserSession;
let roomId: string;

beforeAll(async () => {
  node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0', MAX_SUBSCRIPTIONS_PER_CONNECTION: '3' } });
  alice = await createUser(node.url, 'alice');
  roomId = (await createRoom(node.url, alice.token, 'protocol')).id;
});

// Hooks run in reverse order: the graceful stop (and its exit code check) first, then the sweep.
afterAll(stopAllInProcessNodes);
afterAll(async () => {
  expect(await node?.stop()).toBe(0);
});

const subscribeMessage = (id: string, afterSeq?: number) => ({
  id,
  type: 'subscribe',
  payload: { query: ROOM_EVENTS_SUBSCRIPTION, variables: { roomId, afterSeq } },
});

describe('garbage frames', () => {
  it('close only the socket that sent them, with 4400; other sockets keep their subscriptions', async () => {
    const healthy = wsClient(node.wsUrl, alice.token);
    try {
      const events = collectRoomEvents(healthy, roomId, await roomHead(node.url, alice.token, roomId));
      const before = await sendMessage(node.url, alice.token, roomId, 'before the garbage');
      await events.waitFor((items) => items.some((e) => e.seq === before.seq), 10_000, 'healthy subscription is live');

      const garbage: Array<{ name: string; initFirst: boolean; frame: string | Buffer }> = [
        { name: 'not JSON', initFirst: true, frame: 'this is not json' },
        { name: 'not JSON, before init', initFirst: false, frame: '{"type": "connection_init"' },
        { name: 'an unknown message type', initFirst: true, frame: JSON.stringify({ type: 'nonsense' }) },
        { name: 'a JSON array', initFirst: true, frame: '[1, 2, 3]' },
        { name: 'a subscribe without payload', initFirst: true, frame: JSON.stringify({ id: 'x', type: 'subscribe' }) },
        { name: 'a subscribe without id', initFirst: true, frame: JSON.stringify({ type: 'subscribe', payload: { query: '{ me { id } }' } }) },
        { name: 'binary junk', initFirst: true, frame: Buffer.from([0xff, 0xfe, 0x00, 0x01]) },
        // Messages only servers send (graphql-ws alone would answer them with 4500).
        { name: 'a next from the client', initFirst: true, frame: JSON.stringify({ id: 'x', type: 'next', payload: { data: null } }) },
        { name: 'an error from the client', initFirst: true, frame: JSON.stringify({ id: 'x', type: 'error', payload: [] }) },
        { name: 'a connection_ack from the client', initFirst: true, frame: JSON.stringify({ type: 'connection_ack' }) },
      ];
      for (const { name, initFirst, frame } of garbage) {
        const raw = await connectRaw(node.wsUrl);
        if (initFirst) await raw.init(alice.token);
        raw.ws.send(frame);
        const closed = await raw.waitForClose(5_000);
        expect(closed.code, name).toBe(4400);
        expect(closed.reason.length, name).toBeLessThan(200);
      }

      const after = await sendMessage(node.url, alice.token, roomId, 'after the garbage');
      await events.waitFor((items) => items.some((e) => e.seq === after.seq), 10_000, 'healthy subscription still delivers');
      expect(events.error).toBeUndefined();
      expect(events.items.map((e) => e.seq)).toEqual([before.seq, after.seq]);
      expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    } finally {
      await healthy.dispose();
    }
  });

  it('a subscribe before connection_init closes with 4401', async () => {
    const raw = await connectRaw(node.wsUrl);
    raw.send(subscribeMessage('early'));
    expect((await raw.waitForClose()).code).toBe(4401);
  });

  it('a second connection_init closes with 4429', async () => {
    const raw = await connectRaw(node.wsUrl);
    await raw.init(alice.token);
    raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${alice.token}` } });
    expect((await raw.waitForClose()).code).toBe(4429);
  });

  it('two operations with one id close with 4409', async () => {
    const raw = await connectRaw(node.wsUrl);
    await raw.init(alice.token);
    raw.send(subscribeMessage('same'));
    raw.send(subscribeMessage('same'));
    expect((await raw.waitForClose()).code).toBe(4409);
  });

  it('a socket without the graphql-transport-ws subprotocol is closed with 4406', async () => {
    const raw = await connectRaw(node.wsUrl, null);
    expect((await raw.waitForClose()).code).toBe(4406);
  });
});

describe('authentication on connection_init', () => {
  it('a bad token closes the socket with 4403', async () => {
    for (const token of ['garbage', `${alice.token}x`, alice.token.split('.').slice(0, 2).join('.') + '.' + 'A'.repeat(43)]) {
      const raw = await connectRaw(node.wsUrl);
      raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
      const closed = await raw.waitForClose();
      expect(closed.code, token).toBe(4403);
    }
  });

  it('the graphql-ws client sees the 4403 close as its error', async () => {
    const client = wsClient(node.wsUrl, 'not-a-real-token');
    try {
      const events = collectRoomEvents(client, roomId);
      await Promise.race([events.done, new Promise((_, reject) => setTimeout(() => reject(new Error('not closed within 5 s')), 5_000))]);
      expect(describeError(events.error)).toMatch(/^close 4403/);
    } finally {
      await client.dispose();
    }
  });

  it('no token is allowed on the socket, but operations that need a session are UNAUTHENTICATED', async () => {
    const raw = await connectRaw(node.wsUrl);
    await raw.init(null);
    raw.send({ id: 'n', type: 'subscribe', payload: { query: 'subscription { notices { kind } }' } });
    const reply = await raw.waitForMessage();
    const errors = reply.type === 'error' ? reply.payload : reply.payload?.errors;
    expect(reply.id).toBe('n');
    expect(errors.map((e: { extensions?: { code?: string } }) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    raw.close();
  });
});

describe('connection_init timeout', () => {
  it('a socket that never sends connection_init is closed with 4408 (after CONNECTION_INIT_TIMEOUT_MS = 3 s)', async () => {
    const raw = await connectRaw(node.wsUrl);
    const opened = Date.now();
    const closed = await raw.waitForClose(10_000);
    expect(closed.code).toBe(4408);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(2_500);
  });
});

describe('limits on a connection', () => {
  it('a frame over MAX_REQUEST_BYTES closes the socket with 1009', async () => {
    const raw = await connectRaw(node.wsUrl);
    await raw.init(alice.token);
    raw.send({ id: 'big', type: 'subscribe', payload: { query: `{ me { id } } # ${'x'.repeat(70_000)}` } });
    expect((await raw.waitForClose()).code).toBe(1009);
  });

  it(`refuses operations past MAX_SUBSCRIPTIONS_PER_CONNECTION (3) with an error, and keeps the socket`, async () => {
    const raw = await connectRaw(node.wsUrl);
    await raw.init(alice.token);
    for (const id of ['a', 'b', 'c']) raw.send(subscribeMessage(id));
    // Under test: live subscriptions to a quiet room answer nothing (no error, no event).
    await raw.expectNoMessage(300);
    raw.send(subscribeMessage('d'));
    const refused = await raw.waitForMessage();
    expect(refused).toMatchObject({ id: 'd', type: 'error' });
    expect(refused.payload[0].extensions.code).toBe('BAD_USER_INPUT');

    // Completing one makes room for another; the socket is still fine.
    // No wait needed: graphql-ws frees the slot as it reads the complete, and it reads a socket's
    // frames in order, so the subscribe behind it already finds the room.
    raw.send({ id: 'a', type: 'complete' });
    raw.send(subscribeMessage('e'));
    const sent = await sendMessage(node.url, alice.token, roomId, 'to b, c and e');
    const got = new Map<string, number>();
    for (let i = 0; i < 3; i++) {
      const message = await raw.waitForMessage();
      expect(message.type).toBe('next');
      got.set(message.id, message.payload.data.roomEvents.seq);
    }
    expect(Object.fromEntries(got)).toEqual({ b: sent.seq, c: sent.seq, e: sent.seq });
    raw.close();
  });

  it('does not count queries and mutations in flight against that cap: a client may pipeline sends', async () => {
    const raw = await connectRaw(node.wsUrl);
    await raw.init(alice.token);
    for (let i = 0; i < 10; i++) {
      raw.send({
        id: `send-${i}`,
        type: 'subscribe',
        payload: {
          query: 'mutation($roomId: ID!, $c: ID!) { sendMessage(roomId: $roomId, body: "pipelined", clientMessageId: $c) { seq } }',
          variables: { roomId, c: `pipelined-${i}-${Date.now()}` },
        },
      });
    }
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await raw.waitForMessage()); // a next and a complete each
    expect(results.filter((m) => m.type === 'next' && m.payload.data?.sendMessage?.seq > 0)).toHaveLength(10);
    expect(results.filter((m) => m.type === 'error')).toEqual([]);
    raw.close();
  });
});

describe('operations whose text was seen before', () => {
  // roomEvents subscriptions are parsed and validated once per text (src/server/wsOperations.ts).
  const BOTH = `subscription Events($roomId: ID!) { roomEvents(roomId: $roomId) { seq } }
subscription Who($roomId: ID!) { presence(roomId: $roomId) { count } }`;

  it('run the operation each subscribe names, whichever of the document ran first', async () => {
    const raw = await connectRaw(node.wsUrl);
    await raw.init(alice.token);
    raw.send({ id: 'events', type: 'subscribe', payload: { query: BOTH, operationName: 'Events', variables: { roomId } } });
    // Under test: the roomEvents subscription is set up (and its text remembered) before the next.
    await raw.expectNoMessage(300);
    raw.send({ id: 'who', type: 'subscribe', payload: { query: BOTH, operationName: 'Who', variables: { roomId } } });
    // The presence subscription answers with the room's presence at once; roomEvents stays quiet.
    const first = await raw.waitForMessage();
    expect(first).toMatchObject({ id: 'who', type: 'next', payload: { data: { presence: { count: expect.any(Number) } } } });
    raw.close();
  });

  it('refuse a text seen before when the subscribe names no operation of it (an empty name), as the first time', async () => {
    const raw = await connectRaw(node.wsUrl);
    await raw.init(alice.token);
    const query = 'subscription ($roomId: ID!) { roomEvents(roomId: $roomId) { seq } }';
    raw.send({ id: 'unnamed', type: 'subscribe', payload: { query, variables: { roomId } } });
    await raw.expectNoMessage(300);
    raw.send({ id: 'empty-name', type: 'subscribe', payload: { query, operationName: '', variables: { roomId } } });
    const refused = await raw.waitForMessage();
    expect(refused).toMatchObject({ id: 'empty-name', type: 'error' });
    raw.close();
  });

  it('keep each subscription to its own variables: the same text for two rooms follows each room', async () => {
    const other = (await createRoom(node.url, alice.token, 'protocol-other')).id;
    const raw = await connectRaw(node.wsUrl);
    await raw.init(alice.token);
    const query = 'subscription Same($roomId: ID!) { roomEvents(roomId: $roomId) { seq roomId } }';
    raw.send({ id: 'here', type: 'subscribe', payload: { query, variables: { roomId } } });
    raw.send({ id: 'there', type: 'subscribe', payload: { query, variables: { roomId: other } } });
    await raw.expectNoMessage(300);
    const sent = await sendMessage(node.url, alice.token, other, 'to the other room');
    const message = await raw.waitForMessage();
    expect(message).toMatchObject({ id: 'there', type: 'next', payload: { data: { roomEvents: { seq: sent.seq, roomId: other } } } });
    await raw.expectNoMessage(300);
    raw.close();
  });
});
