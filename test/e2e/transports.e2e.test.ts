/**
 * The transports of docs/api.md beside graphql-ws: GraphQL over HTTP (GET and POST), subscriptions
 * over SSE (GET and POST with Accept: text/event-stream), and a real client library (urql) doing
 * queries and mutations over fetch and subscriptions over graphql-ws.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as UrqlClient, fetchExchange, subscriptionExchange, gql as urqlGql } from '@urql/core';
import {
  MESSAGE_FIELDS,
  ROOM_EVENTS_SUBSCRIPTION,
  assertNoStackTrace,
  takeSseEvents,
  createRoom,
  createUser,
  range,
  roomHead,
  sendMessage,
  wsClient,
  type MessageInfo,
  type RoomEventInfo,
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
  roomId = (await createRoom(node.url, alice.token, 'transports')).id;
  for (let i = 0; i < 5; i++) await sendMessage(node.url, alice.token, roomId, `history ${i}`);
});

// Hooks run in reverse order: the graceful stop (and its exit code check) first, then the sweep.
afterAll(stopAllInProcessNodes);
afterAll(async () => {
  expect(await node?.stop()).toBe(0);
});

/** Reads a text/event-stream response, handing each `next` event's data to `onNext`. */
async function readSse(response: Response, onNext: (payload: { data?: Record<string, unknown>; errors?: unknown[] }) => boolean): Promise<void> {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the event stream ended early');
      buffer += value;
      const taken = takeSseEvents(buffer);
      buffer = taken.rest;
      for (const { event, data } of taken.events) {
        if (event === 'complete') throw new Error('the event stream completed early');
        if (event === 'next' || (!event && data)) {
          if (onNext(JSON.parse(data))) return;
        }
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

describe('roomEvents over SSE', () => {
  for (const method of ['GET', 'POST'] as const) {
    it(`${method} /graphql with Accept: text/event-stream delivers the catch-up, then live events`, async () => {
      const head = await roomHead(node.url, alice.token, roomId);
      const afterSeq = 2;
      const variables = { roomId, afterSeq };
      const headers = { accept: 'text/event-stream', authorization: `Bearer ${alice.token}` };
      const abort = new AbortController();
      const timeout = setTimeout(() => abort.abort(), 20_000);
      try {
        const response =
          method === 'GET'
            ? await fetch(`${node.url}/graphql?${new URLSearchParams({ query: ROOM_EVENTS_SUBSCRIPTION, variables: JSON.stringify(variables) })}`, {
                headers,
                signal: abort.signal,
              })
            : await fetch(`${node.url}/graphql`, {
                method: 'POST',
                headers: { ...headers, 'content-type': 'application/json' },
                body: JSON.stringify({ query: ROOM_EVENTS_SUBSCRIPTION, variables }),
                signal: abort.signal,
              });
        const seen: RoomEventInfo[] = [];
        let live: Promise<MessageInfo> | undefined;
        await readSse(response, (payload) => {
          expect(payload.errors).toBeUndefined();
          seen.push(payload.data!.roomEvents as RoomEventInfo);
          if (seen.at(-1)!.seq === head && !live) {
            // Caught up: now a live one.
            live = sendMessage(node.url, alice.token, roomId, `live over SSE ${method}`);
          }
          return seen.at(-1)!.seq === head + 1;
        });
        expect(seen.map((e) => e.seq)).toEqual(range(afterSeq + 1, head + 1));
        expect(seen.at(-1)!.__typename).toBe('MessagePosted');
        expect(seen.at(-1)!.message!.id).toBe((await live!).id);
      } finally {
        clearTimeout(timeout);
        abort.abort();
      }
    });
  }

  it('a private room over SSE without membership is refused with FORBIDDEN', async () => {
    const secret = await createRoom(node.url, alice.token, 'sse secret', 'password1');
    const bob = await createUser(node.url, 'bob');
    const response = await fetch(`${node.url}/graphql`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${bob.token}` },
      body: JSON.stringify({ query: ROOM_EVENTS_SUBSCRIPTION, variables: { roomId: secret.id, afterSeq: 0 } }),
      signal: AbortSignal.timeout(10_000),
    });
    let errors: Array<{ extensions?: { code?: string } }> = [];
    await readSse(response, (payload) => {
      errors = (payload.errors ?? []) as typeof errors;
      return true;
    });
    expect(errors.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });
});

describe('GraphQL over HTTP', () => {
  it('answers a query over GET', async () => {
    const response = await fetch(`${node.url}/graphql?${new URLSearchParams({ query: '{ me { id name } }' })}`, {
      headers: { accept: 'application/json', authorization: `Bearer ${alice.token}` },
    });
    const text = await response.text();
    assertNoStackTrace(text);
    expect(response.status).toBe(200);
    expect(JSON.parse(text)).toEqual({ data: { me: alice.user } });
  });

  it('does not run a mutation sent over GET', async () => {
    const before = await roomHead(node.url, alice.token, roomId);
    const query = `mutation { sendMessage(roomId: ${JSON.stringify(roomId)}, body: "via GET", clientMessageId: "get-1") { id } }`;
    const response = await fetch(`${node.url}/graphql?${new URLSearchParams({ query })}`, {
      headers: { accept: 'application/json', authorization: `Bearer ${alice.token}` },
    });
    assertNoStackTrace(await response.text());
    expect(response.status).toBe(405);
    expect(await roomHead(node.url, alice.token, roomId)).toBe(before);
  });
});

describe('urql (@urql/core) as the client', () => {
  it('runs a query and a mutation over fetch and a subscription over graphql-ws', async () => {
    const ws = wsClient(node.wsUrl, alice.token);
    const client = new UrqlClient({
      url: `${node.url}/graphql`,
      fetchOptions: () => ({ headers: { authorization: `Bearer ${alice.token}` } }),
      exchanges: [
        fetchExchange,
        subscriptionExchange({
          forwardSubscription(request) {
            const input = { ...request, query: request.query ?? '' };
            return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }) };
          },
        }),
      ],
    });
    const stop: Array<() => void> = [];
    try {
      const me = await client.query(urqlGql`{ me { id name } rooms { id name } }`, {}).toPromise();
      expect(me.error).toBeUndefined();
      expect(me.data.me).toEqual(alice.user);
      expect(me.data.rooms.map((r: { id: string }) => r.id)).toContain(roomId);

      const head = await roomHead(node.url, alice.token, roomId);
      const received: RoomEventInfo[] = [];
      const errors: unknown[] = [];
      let wake: () => void = () => {};
      const arrived = new Promise<void>((resolve) => (wake = resolve));
      const subscription = client.subscription(urqlGql(ROOM_EVENTS_SUBSCRIPTION), { roomId, afterSeq: head }).subscribe((result) => {
        if (result.error) errors.push(result.error);
        if (result.data) received.push(result.data.roomEvents);
        if (received.length >= 1) wake();
      });
      stop.push(() => subscription.unsubscribe());

      const sent = await client
        .mutation(urqlGql`mutation($roomId: ID!, $body: String!, $clientMessageId: ID!) {
            sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) { ${MESSAGE_FIELDS} }
          }`, { roomId, body: 'through urql', clientMessageId: 'urql-1' })
        .toPromise();
      expect(sent.error).toBeUndefined();
      expect(sent.data.sendMessage).toMatchObject({ body: 'through urql', seq: head + 1, roomId });

      await Promise.race([arrived, new Promise((_, reject) => setTimeout(() => reject(new Error('no event through urql within 10 s')), 10_000))]);
      expect(errors).toEqual([]);
      expect(received[0]).toMatchObject({ __typename: 'MessagePosted', seq: head + 1, message: { id: sent.data.sendMessage.id } });

      // urql surfaces GraphQL errors as a CombinedError with the extensions intact.
      const forbidden = await client
        .mutation(urqlGql`mutation { editMessage(messageId: ${JSON.stringify(`${roomId}~nope`)}, body: "x") { id } }`, {})
        .toPromise();
      expect(forbidden.error?.graphQLErrors.map((e) => e.extensions.code)).toEqual(['NOT_FOUND']);
    } finally {
      for (const s of stop) s();
      await ws.dispose();
    }
  });
});
