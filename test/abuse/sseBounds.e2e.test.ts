/**
 * Issue 11, finding 9: subscriptions over SSE were unbounded per user and per address, a stream
 * nobody read held ~4 MB, and the slow-consumer end reached the client as "Unexpected error."
 * instead of the message saying how to resume. Now SSE streams are bounded per user
 * (MAX_SSE_STREAMS_PER_USER) and per address (MAX_SSE_STREAMS_PER_ADDRESS), and a stream whose
 * reader fell behind ends with that message and its public code.
 */
import { connect } from 'node:net';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNoStackTrace, createRoom, createUser, pool, sendMessage, type UserSession } from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes, type InProcessNode } from '../support/inProcessNode.js';
import { liveSubscriptions, waitFor, waitForSubscriptions } from '../support/signals.js';
import { sse, type SseStream } from './requests.js';

afterAll(stopAllInProcessNodes);

const EVENTS = 'subscription($roomId: ID!) { roomEvents(roomId: $roomId) { seq ... on MessagePosted { message { body } } } }';
const PER_USER = 3;
const PER_ADDRESS = 5;

describe(`SSE streams per user (${PER_USER}) and per address (${PER_ADDRESS})`, () => {
  let node: InProcessNode;
  let owner: UserSession;
  let roomId: string;
  const open: SseStream[] = [];

  beforeAll(async () => {
    node = await startInProcessNode({
      env: { RATE_LIMIT_MESSAGES: '0', MAX_SSE_STREAMS_PER_USER: String(PER_USER), MAX_SSE_STREAMS_PER_ADDRESS: String(PER_ADDRESS) },
    });
    owner = await createUser(node.url, 'owner');
    roomId = (await createRoom(node.url, owner.token, 'streamed')).id;
  });
  afterAll(() => {
    for (const stream of open) stream.close();
  });

  /**
   * Opens a stream. The node answers an SSE request once the subscription is set up (or refused),
   * so when this resolves the node holds it or has refused it.
   */
  async function openStream(token?: string): Promise<SseStream> {
    const stream = await sse(node.url, EVENTS, { roomId }, token);
    open.push(stream);
    return stream;
  }

  async function refusal(stream: SseStream): Promise<{ message: string; code?: string }> {
    await stream.ended;
    expect(stream.payloads).toHaveLength(1);
    const error = stream.payloads[0]!.errors![0]!;
    return { message: error.message, code: error.extensions?.code };
  }

  it('a user past their bound is refused with BAD_USER_INPUT and no stream; closing one makes room', async () => {
    const alice = await createUser(node.url, 'alice');
    const streams: SseStream[] = [];
    for (let i = 0; i < PER_USER; i++) streams.push(await openStream(alice.token));
    const fourth = await openStream(alice.token);
    expect(await refusal(fourth)).toEqual({
      message: `at most ${PER_USER} subscriptions over SSE at once per user: close one, or use one WebSocket for many`,
      code: 'BAD_USER_INPUT',
    });
    // The ones accepted deliver.
    const sent = await sendMessage(node.url, owner.token, roomId, 'to alice');
    await waitFor(() => streams.every((s) => s.payloads.some((p) => (p.data?.roomEvents as { seq?: number })?.seq === sent.seq)), 10_000, 'every accepted stream delivers');
    // Closing one gives its slot back (once the node sees the request gone).
    streams[0]!.close();
    const again = await waitFor(
      async () => {
        const stream = await openStream(alice.token);
        await Promise.race([stream.ended, new Promise((resolve) => setTimeout(resolve, 200))]);
        if (stream.payloads[0]?.errors) return undefined;
        return stream;
      },
      10_000,
      'a new stream once one closed',
      100,
    );
    expect(again.payloads.every((p) => !p.errors)).toBe(true);
    for (const stream of [...streams, again]) stream.close();
  });

  it('an address past its bound is refused whoever the user, also without a session; other addresses are not', async () => {
    await waitFor(async () => (await liveSubscriptions(node.url)) === 0 || undefined, 10_000, 'earlier streams released');
    const users = await Promise.all([createUser(node.url, 'b'), createUser(node.url, 'c'), createUser(node.url, 'd')]);
    const streams: SseStream[] = [];
    for (const token of [users[0]!.token, users[0]!.token, users[1]!.token, users[1]!.token, users[2]!.token]) streams.push(await openStream(token));
    expect(await liveSubscriptions(node.url)).toBe(PER_ADDRESS);
    const refusedUser = await refusal(await openStream(users[2]!.token));
    expect(refusedUser).toEqual({
      message: `at most ${PER_ADDRESS} subscriptions over SSE at once per client address: close one, or use one WebSocket for many`,
      code: 'BAD_USER_INPUT',
    });
    expect((await refusal(await openStream())).code).toBe('BAD_USER_INPUT');
    // From another address (127.0.0.2) the same user still gets a stream.
    const other = await rawSse(node.port, users[2]!.token, roomId, '127.0.0.2');
    try {
      await waitFor(() => other.text.includes(':\n\n') || undefined, 5_000, 'the stream from 127.0.0.2 opens');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(other.text).not.toContain('errors');
    } finally {
      other.close();
    }
    for (const stream of streams) stream.close();
  });

  it('a stream nobody reads ends with the resume message and a public code, not "Unexpected error."; its slot is given back', async () => {
    await waitFor(async () => (await liveSubscriptions(node.url)) === 0 || undefined, 10_000, 'earlier streams released');
    const reader = await createUser(node.url, 'never reads');
    const before = await liveSubscriptions(node.url);
    const stalled = await rawSse(node.port, reader.token, roomId);
    stalled.pause();
    await waitForSubscriptions(node.url, before + 1);
    // Enough 4 KB messages to fill the socket buffers and then the stream's queue.
    const body = 'z'.repeat(4_000);
    await pool(3_000, 8, () => sendMessage(node.url, owner.token, roomId, body));
    await waitFor(async () => (await liveSubscriptions(node.url)) === before || undefined, 20_000, 'the node ends the stalled stream');
    stalled.resume();
    await waitFor(() => stalled.text.includes('event: complete') || undefined, 20_000, 'the stream to end');
    assertNoStackTrace(stalled.text, 'SSE stream');
    const last = stalled.text
      .split('\n\n')
      .filter((block) => block.includes('"errors"'))
      .map((block) => JSON.parse(block.slice(block.indexOf('data: ') + 6)) as { errors: Array<{ message: string; extensions?: { code?: string } }> })
      .at(-1);
    expect(last?.errors[0]?.message).toMatch(/^slow consumer: more than \d+ events were waiting; resubscribe with afterSeq to resume$/);
    expect(last?.errors[0]?.extensions?.code).toBe('UNAVAILABLE');
    expect(stalled.text).not.toContain('Unexpected error.');
    stalled.close();
    // Its user can open streams again.
    const next = await openStream(reader.token);
    expect(next.payloads.some((p) => p.errors)).toBe(false);
    next.close();
  }, 120_000);
});

/** An SSE subscription over a plain socket (from `localAddress`), read as raw text; pausable. */
async function rawSse(port: number, token: string, roomId: string, localAddress = '127.0.0.1') {
  const body = JSON.stringify({ query: EVENTS, variables: { roomId } });
  let text = '';
  if (localAddress === '127.0.0.1') {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => {});
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n` +
        `Authorization: Bearer ${token}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    return {
      get text() {
        return text;
      },
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      close: () => socket.destroy(),
    };
  }
  const req = request({
    host: '127.0.0.1',
    port,
    path: '/graphql',
    method: 'POST',
    localAddress,
    agent: false,
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) },
  });
  req.on('response', (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('error', () => {});
  });
  req.on('error', () => {});
  req.end(body);
  return {
    get text() {
      return text;
    },
    pause: () => {},
    resume: () => {},
    close: () => req.destroy(),
  };
}
