/**
 * Errors as a client sees them (docs/api.md): GraphQL errors with an extensions.code from the
 * contract, HTTP 413 for an oversized body, and never a stack trace or an internal path, over
 * HTTP or WebSocket. (Every response the helpers read is checked for leaks as well.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ROOM_EVENTS_SUBSCRIPTION,
  assertNoStackTrace,
  connectRaw,
  createRoom,
  createUser,
  errorCodes,
  http,
  trySend,
  type UserSession,
} from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import type { ServerHandle } from '../support/nodeProcess.js';

let node: ServerHandle;
let alice: UserSession;
let roomId: string;

const CODES = ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'RATE_LIMITED', 'PAYLOAD_TOO_LARGE'];

beforeAll(async () => {
  node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
  alice = await createUser(node.url, 'alice');
  roomId = (await createRoom(node.url, alice.token, 'errors')).id;
});

// Hooks run in reverse order: the graceful stop (and its exit code check) first, then the sweep.
afterAll(stopAllInProcessNodes);
afterAll(async () => {
  expect(await node?.stop()).toBe(0);
});

async function post(body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${node.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}`, ...headers },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  assertNoStackTrace(text, `HTTP ${response.status}`);
  return { status: response.status, text };
}

describe('size limits', () => {
  it('an HTTP body over MAX_REQUEST_BYTES (64 KiB) is refused with 413 and PAYLOAD_TOO_LARGE', async () => {
    const query = `mutation($b: String!) { sendMessage(roomId: ${JSON.stringify(roomId)}, body: $b, clientMessageId: "big") { id } }`;
    const { status, text } = await post(JSON.stringify({ query, variables: { b: 'x'.repeat(70_000) } }));
    expect(status).toBe(413);
    expect(JSON.parse(text).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a message body over MAX_BODY_CHARS (4000) is PAYLOAD_TOO_LARGE; exactly 4000 is fine', async () => {
    expect(errorCodes(await trySend(node.url, alice.token, roomId, 'y'.repeat(4_001)))).toEqual(['PAYLOAD_TOO_LARGE']);
    expect(errorCodes(await trySend(node.url, alice.token, roomId, 'y'.repeat(4_000)))).toEqual([]);
    // Characters, not bytes: 4000 emoji are 4000 characters.
    expect(errorCodes(await trySend(node.url, alice.token, roomId, '🙂'.repeat(4_000)))).toEqual([]);
  });

  it('an empty body or an empty clientMessageId is BAD_USER_INPUT', async () => {
    expect(errorCodes(await trySend(node.url, alice.token, roomId, '   '))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await trySend(node.url, alice.token, roomId, 'fine', ''))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('no stack traces, whatever goes wrong', () => {
  it('bad HTTP requests get short, clean answers', async () => {
    const bad: Array<[string, string, Record<string, string>?]> = [
      ['invalid JSON', '{"query": '],
      ['a JSON array', '[1, 2]'],
      ['no query', '{}'],
      ['a syntax error', JSON.stringify({ query: 'query { me { ' })],
      ['an unknown field', JSON.stringify({ query: '{ nope }' })],
      ['a wrong variable type', JSON.stringify({ query: 'query($id: ID!) { room(id: $id) { id } }', variables: { id: { a: 1 } } })],
      ['a missing variable', JSON.stringify({ query: 'query($id: ID!) { room(id: $id) { id } }' })],
      ['a wrong content type', 'query { me { id } }', { 'content-type': 'text/plain' }],
      ['an unknown operation name', JSON.stringify({ query: '{ me { id } }', operationName: 'Nope' })],
      ['many aliases', JSON.stringify({ query: `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: me { id }`).join(' ')} }` })],
      ['a huge limit', JSON.stringify({ query: `{ messages(roomId: ${JSON.stringify(roomId)}, limit: 100000000) { id } }` })],
      ['a negative cursor', JSON.stringify({ query: `{ roomEvents(roomId: ${JSON.stringify(roomId)}, afterSeq: -5) { seq } }` })],
      ['an absurd id', JSON.stringify({ query: `{ room(id: ${JSON.stringify('z'.repeat(5_000))}) { id } }` })],
      ['a weird message id', JSON.stringify({ query: 'mutation { deleteMessage(messageId: "~~~") { id } }' })],
    ];
    for (const [name, body, headers] of bad) {
      const { status, text } = await post(body, headers);
      expect(status, `${name}: ${text}`).toBeLessThan(500);
      expect(text.length, name).toBeLessThan(5_000);
      if (status === 415) continue; // unsupported media type: the status says it all
      const parsed = JSON.parse(text) as { errors?: Array<{ message: string; extensions?: { code?: string } }> };
      expect(parsed.errors?.length, `${name}: ${text}`).toBeGreaterThan(0);
    }
  });

  it('errors raised by the chat have a code from the contract', async () => {
    const responses = [
      await http(node.url, '{ roomEvents(roomId: "no-such-room") { seq } }', {}, alice.token),
      await http(node.url, 'mutation { joinRoom(roomId: "no-such-room") { id } }', {}, alice.token),
      await http(node.url, `{ messages(roomId: ${JSON.stringify(roomId)}, limit: 0) { id } }`, {}, alice.token),
      await http(node.url, `{ roomEvents(roomId: ${JSON.stringify(roomId)}, afterSeq: -1) { seq } }`, {}, alice.token),
      await http(node.url, 'mutation { createSession(name: "") { token } }'),
    ];
    for (const response of responses) {
      const codes = errorCodes(response);
      expect(codes.length, response.text).toBeGreaterThan(0);
      for (const code of codes) expect(CODES, response.text).toContain(code);
    }
    expect(errorCodes(responses[0])).toEqual(['NOT_FOUND']);
    expect(errorCodes(responses[1])).toEqual(['NOT_FOUND']);
  });

  it('bad operations over WebSocket get clean error messages too', async () => {
    const raw = await connectRaw(node.wsUrl);
    await raw.init(alice.token);
    const operations = [
      { query: 'subscription { nope }' },
      { query: 'subscription { roomEvents(roomId: "no-such-room") { seq } }' },
      { query: ROOM_EVENTS_SUBSCRIPTION, variables: { roomId, afterSeq: -3 } },
      { query: ROOM_EVENTS_SUBSCRIPTION, variables: { roomId: 42, afterSeq: 'x' } },
      { query: 'subscription { roomEvents(roomId: "r" ' },
      { query: 'mutation { sendMessage(roomId: "no-such-room", body: "x", clientMessageId: "c") { id } }' },
    ];
    for (const [i, payload] of operations.entries()) {
      raw.send({ id: `op${i}`, type: 'subscribe', payload });
      const reply = await raw.waitForMessage(5_000);
      expect(reply.id, JSON.stringify(reply)).toBe(`op${i}`);
      const errors = reply.type === 'error' ? reply.payload : reply.payload?.errors;
      expect(Array.isArray(errors) && errors.length > 0, JSON.stringify(reply)).toBe(true);
      if (reply.type === 'next') expect((await raw.waitForMessage()).type).toBe('complete');
    }
    raw.close();
  });

  it('an operation over the alias limit is refused as that operation\'s error, not by closing the socket', async () => {
    // Over HTTP the same document gets an ordinary GraphQL error.
    const query = `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
    const overHttp = await http(node.url, query, {}, alice.token);
    expect(overHttp.status).toBeLessThan(500);
    expect(overHttp.errors?.length).toBeGreaterThan(0);

    const raw = await connectRaw(node.wsUrl);
    await raw.init(alice.token);
    raw.send({ id: 'aliases', type: 'subscribe', payload: { query } });
    const reply = await raw.waitForMessage(5_000);
    expect(reply).toMatchObject({ id: 'aliases', type: 'error' });
    // The connection is still usable.
    raw.send({ id: 'after', type: 'subscribe', payload: { query: '{ me { id } }' } });
    expect(await raw.waitForMessage(5_000)).toEqual({ id: 'after', type: 'next', payload: { data: { me: { id: alice.user.id } } } });
    raw.close();
  });
});
