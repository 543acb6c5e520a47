/**
 * Idempotent send (docs/api.md): a sendMessage with a clientMessageId the same user already used in
 * that room returns the original Message (same id, same seq) and appends nothing, however many
 * copies race each other and over whichever transport.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEND_MESSAGE,
  createRoom,
  createUser,
  joinRoom,
  readLog,
  roomHead,
  sendMessage,
  trySend,
  wsClient,
  wsExecute,
  type MessageInfo,
  type UserSession,
} from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import type { ServerHandle } from '../support/nodeProcess.js';

let node: ServerHandle;
let alice: UserSession;
let roomId: string;

beforeAll(async () => {
  node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
  alice = await createUser(node.url, 'alice');
  roomId = (await createRoom(node.url, alice.token, 'idempotency')).id;
});

// Hooks run in reverse order: the graceful stop (and its exit code check) first, then the sweep.
afterAll(stopAllInProcessNodes);
afterAll(async () => {
  expect(await node?.stop()).toBe(0);
});

const postedWith = async (clientMessageId: string, room = roomId) =>
  (await readLog(node.url, alice.token, room)).filter((e) => e.__typename === 'MessagePosted' && e.message?.clientMessageId === clientMessageId);

describe('idempotent sendMessage', () => {
  it('20 concurrent sends with one clientMessageId all return the same message, and the log holds it once', async () => {
    const clientMessageId = randomUUID();
    const headBefore = await roomHead(node.url, alice.token, roomId);
    const responses = await Promise.all(Array.from({ length: 20 }, () => trySend(node.url, alice.token, roomId, 'only once', clientMessageId)));

    for (const response of responses) expect(response.errors, response.text).toBeUndefined();
    const messages = responses.map((r) => r.data!.sendMessage);
    const first = messages[0]!;
    expect(first.id.startsWith(`${roomId}~`)).toBe(true);
    expect(first.clientMessageId).toBe(clientMessageId);
    expect(first.author.id).toBe(alice.user.id);
    for (const message of messages) {
      expect({ id: message.id, seq: message.seq, body: message.body }).toEqual({ id: first.id, seq: first.seq, body: 'only once' });
    }

    const posted = await postedWith(clientMessageId);
    expect(posted).toHaveLength(1);
    expect(posted[0]!.seq).toBe(first.seq);
    expect(posted[0]!.message!.id).toBe(first.id);
    expect(await roomHead(node.url, alice.token, roomId)).toBe(headBefore + 1);
  });

  it('concurrent copies over HTTP and WebSocket together still append once', async () => {
    const clientMessageId = randomUUID();
    const client = wsClient(node.wsUrl, alice.token);
    try {
      const variables = { roomId, body: 'mixed transports', clientMessageId };
      const results = await Promise.all([
        ...Array.from({ length: 10 }, () => trySend(node.url, alice.token, roomId, 'mixed transports', clientMessageId)),
        ...Array.from({ length: 10 }, () => wsExecute<{ sendMessage: MessageInfo }>(client, SEND_MESSAGE, variables)),
      ]);
      for (const result of results) expect(result.errors).toBeUndefined();
      const ids = new Set(results.map((r) => `${r.data!.sendMessage.id}@${r.data!.sendMessage.seq}`));
      expect(ids.size).toBe(1);
      expect(await postedWith(clientMessageId)).toHaveLength(1);
    } finally {
      await client.dispose();
    }
  });

  it('a later resend, even with another body, returns the original and appends nothing', async () => {
    const clientMessageId = randomUUID();
    const original = await sendMessage(node.url, alice.token, roomId, 'the original', clientMessageId);
    await sendMessage(node.url, alice.token, roomId, 'something after it');
    const head = await roomHead(node.url, alice.token, roomId);

    const resent = await sendMessage(node.url, alice.token, roomId, 'a different body', clientMessageId);
    expect(resent).toMatchObject({ id: original.id, seq: original.seq, body: 'the original', clientMessageId });
    expect(await roomHead(node.url, alice.token, roomId)).toBe(head);
    expect(await postedWith(clientMessageId)).toHaveLength(1);
  });

  it('the same clientMessageId from another user, or in another room, is a new message', async () => {
    const clientMessageId = randomUUID();
    const bob = await createUser(node.url, 'bob');
    await joinRoom(node.url, bob.token, roomId);
    const otherRoom = (await createRoom(node.url, alice.token, 'another room')).id;

    const fromAlice = await sendMessage(node.url, alice.token, roomId, 'from alice', clientMessageId);
    const fromBob = await sendMessage(node.url, bob.token, roomId, 'from bob', clientMessageId);
    const elsewhere = await sendMessage(node.url, alice.token, otherRoom, 'elsewhere', clientMessageId);

    expect(fromBob.id).not.toBe(fromAlice.id);
    expect(fromBob.seq).not.toBe(fromAlice.seq);
    expect(fromBob.author.id).toBe(bob.user.id);
    expect(elsewhere.id).not.toBe(fromAlice.id);
    expect(elsewhere.roomId).toBe(otherRoom);
    expect(await postedWith(clientMessageId)).toHaveLength(2);
    expect(await postedWith(clientMessageId, otherRoom)).toHaveLength(1);
  });
});
