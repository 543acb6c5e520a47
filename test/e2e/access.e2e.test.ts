/**
 * Who may read and write (docs/api.md): any session reads and joins a public room; a private room needs
 * its password at joinRoom and only members read or subscribe to it; only members send; only the
 * author edits or deletes. No session, or a bad token, is UNAUTHENTICATED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MESSAGE_FIELDS,
  ROOM_EVENTS_SUBSCRIPTION,
  collect,
  collectRoomEvents,
  createRoom,
  createUser,
  errorCodes,
  gql,
  http,
  joinRoom,
  readLog,
  sendMessage,
  trySend,
  wsClient,
  type GqlError,
  type MessageInfo,
  type UserSession,
} from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import type { ServerHandle } from '../support/nodeProcess.js';

let node: ServerHandle;
let owner: UserSession;
let stranger: UserSession;

beforeAll(async () => {
  node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
  owner = await createUser(node.url, 'owner');
  stranger = await createUser(node.url, 'stranger');
});

// Hooks run in reverse order: the graceful stop (and its exit code check) first, then the sweep.
afterAll(stopAllInProcessNodes);
afterAll(async () => {
  expect(await node?.stop()).toBe(0);
});

const JOIN = 'mutation($roomId: ID!, $password: String) { joinRoom(roomId: $roomId, password: $password) { id private } }';
const MESSAGES = `query($roomId: ID!) { messages(roomId: $roomId) { ${MESSAGE_FIELDS} } }`;
const ROOM_EVENTS = 'query($roomId: ID!) { roomEvents(roomId: $roomId) { seq } }';
const EDIT = `mutation($messageId: ID!, $body: String!) { editMessage(messageId: $messageId, body: $body) { ${MESSAGE_FIELDS} } }`;
const DELETE = `mutation($messageId: ID!) { deleteMessage(messageId: $messageId) { ${MESSAGE_FIELDS} } }`;

/** Subscribes over graphql-ws and resolves with the GraphQL errors it ends with (or fails). */
async function subscriptionErrors(token: string, query: string, variables: Record<string, unknown>): Promise<string[]> {
  const client = wsClient(node.wsUrl, token);
  try {
    const field = query.includes('presence') ? 'presence' : 'roomEvents';
    const sub = collect<unknown>(client, { query, variables }, field);
    await Promise.race([sub.done, new Promise((_, reject) => setTimeout(() => reject(new Error('subscription was not refused within 10 s')), 10_000))]);
    expect(sub.items).toEqual([]);
    expect(Array.isArray(sub.error), `expected GraphQL errors, got ${String(sub.error)}`).toBe(true);
    return errorCodes(sub.error as GqlError[]);
  } finally {
    await client.dispose();
  }
}

describe('a private room', () => {
  let roomId: string;

  beforeAll(async () => {
    const room = await createRoom(node.url, owner.token, 'secret club', 'open sesame');
    expect(room.private).toBe(true);
    roomId = room.id;
    await sendMessage(node.url, owner.token, roomId, 'members only');
  });

  it('is not listed among the public rooms', async () => {
    const data = await gql<{ rooms: Array<{ id: string }> }>(node.url, '{ rooms { id } }', {}, stranger.token);
    expect(data.rooms.map((r) => r.id)).not.toContain(roomId);
  });

  it('refuses a non-member its history, its log and its subscriptions', async () => {
    expect(errorCodes(await http(node.url, MESSAGES, { roomId }, stranger.token))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await http(node.url, ROOM_EVENTS, { roomId }, stranger.token))).toEqual(['FORBIDDEN']);
    expect(await subscriptionErrors(stranger.token, ROOM_EVENTS_SUBSCRIPTION, { roomId, afterSeq: 0 })).toEqual(['FORBIDDEN']);
    expect(await subscriptionErrors(stranger.token, ROOM_EVENTS_SUBSCRIPTION, { roomId })).toEqual(['FORBIDDEN']);
    expect(await subscriptionErrors(stranger.token, 'subscription($roomId: ID!) { presence(roomId: $roomId) { count } }', { roomId })).toEqual([
      'FORBIDDEN',
    ]);
    // Nor can a non-member slip a message in.
    expect(errorCodes(await trySend(node.url, stranger.token, roomId, 'let me in'))).toEqual(['FORBIDDEN']);
  });

  it('refuses to join without the password or with a wrong one', async () => {
    expect(errorCodes(await http(node.url, JOIN, { roomId }, stranger.token))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await http(node.url, JOIN, { roomId, password: 'guess' }, stranger.token))).toEqual(['FORBIDDEN']);
    // Failed attempts left no trace in the room.
    const log = await readLog(node.url, owner.token, roomId);
    expect(log.filter((e) => e.__typename === 'MemberJoined' && e.user?.id === stranger.user.id)).toEqual([]);
    expect(errorCodes(await http(node.url, ROOM_EVENTS, { roomId }, stranger.token))).toEqual(['FORBIDDEN']);
  });

  it('lets a member in with the right password: then it reads, subscribes and sends', async () => {
    const member = await createUser(node.url, 'member');
    expect(errorCodes(await http(node.url, JOIN, { roomId, password: 'open sesame' }, member.token))).toEqual([]);
    const history = await gql<{ messages: MessageInfo[] }>(node.url, MESSAGES, { roomId }, member.token);
    expect(history.messages.map((m) => m.body)).toEqual(['members only']);

    const client = wsClient(node.wsUrl, member.token);
    try {
      const events = collectRoomEvents(client, roomId, 0);
      const sent = await sendMessage(node.url, member.token, roomId, 'hello club');
      await events.waitFor((items) => items.some((e) => e.message?.id === sent.id), 10_000, 'own message arrives');
      expect(events.items.map((e) => e.seq)).toEqual(Array.from({ length: sent.seq }, (_, i) => i + 1));
    } finally {
      await client.dispose();
    }
  });
});

describe('a public room', () => {
  it('anyone with a session reads it, but only members send', async () => {
    const room = await createRoom(node.url, owner.token, 'lobby');
    await sendMessage(node.url, owner.token, room.id, 'welcome');
    const reader = await createUser(node.url, 'reader');
    const history = await gql<{ messages: MessageInfo[] }>(node.url, MESSAGES, { roomId: room.id }, reader.token);
    expect(history.messages.map((m) => m.body)).toEqual(['welcome']);
    expect(errorCodes(await trySend(node.url, reader.token, room.id, 'not a member yet'))).toEqual(['FORBIDDEN']);
    await joinRoom(node.url, reader.token, room.id);
    expect(errorCodes(await trySend(node.url, reader.token, room.id, 'now a member'))).toEqual([]);
  });
});

describe('author checks', () => {
  it('only the author edits or deletes a message; the log and the history show exactly that', async () => {
    const room = await createRoom(node.url, owner.token, 'authorship');
    const other = await createUser(node.url, 'other');
    await joinRoom(node.url, other.token, room.id);
    const message = await sendMessage(node.url, owner.token, room.id, 'original words');

    expect(errorCodes(await http(node.url, EDIT, { messageId: message.id, body: 'forged' }, other.token))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await http(node.url, DELETE, { messageId: message.id }, other.token))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await http(node.url, EDIT, { messageId: message.id, body: 'forged' }, stranger.token))).toEqual(['FORBIDDEN']);

    const edited = await gql<{ editMessage: MessageInfo }>(node.url, EDIT, { messageId: message.id, body: 'better words' }, owner.token);
    expect(edited.editMessage).toMatchObject({ id: message.id, seq: message.seq, body: 'better words', deleted: false });
    expect(edited.editMessage.editedAt).not.toBeNull();

    const deleted = await gql<{ deleteMessage: MessageInfo }>(node.url, DELETE, { messageId: message.id }, owner.token);
    expect(deleted.deleteMessage).toMatchObject({ id: message.id, body: '', deleted: true });

    const history = await gql<{ messages: MessageInfo[] }>(node.url, MESSAGES, { roomId: room.id }, other.token);
    expect(history.messages).toHaveLength(1);
    expect(history.messages[0]).toMatchObject({ id: message.id, body: '', deleted: true });

    const log = await readLog(node.url, owner.token, room.id);
    const tail = log.filter((e) => e.seq > message.seq);
    expect(tail.map((e) => [e.__typename, e.messageId, e.body ?? null])).toEqual([
      ['MessageEdited', message.id, 'better words'],
      ['MessageDeleted', message.id, null],
    ]);
    expect(tail.map((e) => e.seq)).toEqual([message.seq + 1, message.seq + 2]);
  });

  it('an unknown message is NOT_FOUND', async () => {
    const room = await createRoom(node.url, owner.token, 'nothing here');
    const response = await http(node.url, EDIT, { messageId: `${room.id}~00000000-0000-4000-8000-000000000000`, body: 'x' }, owner.token);
    expect(errorCodes(response)).toEqual(['NOT_FOUND']);
  });
});

describe('authentication', () => {
  it('no session is UNAUTHENTICATED for anything that needs one', async () => {
    const room = await createRoom(node.url, owner.token, 'needs a session');
    expect(errorCodes(await trySend(node.url, '', room.id, 'anonymous'))).toEqual(['UNAUTHENTICATED']);
    expect(errorCodes(await http(node.url, 'mutation { createRoom(name: "anon") { id } }'))).toEqual(['UNAUTHENTICATED']);
    const me = await http<{ me: unknown }>(node.url, '{ me { id } }');
    expect(me.errors).toBeUndefined();
    expect(me.data!.me).toBeNull();
  });

  it('a forged or garbled token is UNAUTHENTICATED, even for a query that needs no session', async () => {
    const [header, payload] = owner.token.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(43)}`;
    for (const token of [forged, 'not-a-jwt', `${owner.token}x`]) {
      expect(errorCodes(await http(node.url, '{ me { id } }', {}, token)), token).toEqual(['UNAUTHENTICATED']);
    }
  });

  it('a valid token is the same user everywhere', async () => {
    const data = await gql<{ me: { id: string; name: string } }>(node.url, '{ me { id name } }', {}, owner.token);
    expect(data.me).toEqual(owner.user);
  });
});
