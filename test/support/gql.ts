/**
 * Client-side helpers for the end-to-end tests: GraphQL over HTTP, a graphql-ws client factory,
 * a collector for subscriptions, and a raw WebSocket client for protocol-level tests. Every
 * response body and every WebSocket frame that passes through here is checked for leaked stack
 * traces (docs/api.md: "No stack traces reach a client").
 */
import { randomUUID } from 'node:crypto';
import { createClient, type Client, type ClientOptions, type SubscribePayload } from 'graphql-ws';
import WebSocket from 'ws';

export interface GqlError {
  message: string;
  path?: Array<string | number>;
  extensions?: { code?: string; retryAfterMs?: number; [key: string]: unknown };
}

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: GqlError[];
  /** The raw response body. */
  text: string;
}

export interface UserSession {
  token: string;
  user: { id: string; name: string };
}

export interface RoomInfo {
  id: string;
  name: string;
  private: boolean;
  headSeq: number;
  oldestSeq: number;
  memberCount: number;
}

export interface MessageInfo {
  id: string;
  clientMessageId: string;
  roomId: string;
  seq: number;
  body: string;
  deleted: boolean;
  editedAt: string | null;
  createdAt: string;
  author: { id: string; name: string };
}

/** A roomEvents item as selected by ROOM_EVENT_FIELDS. */
export interface RoomEventInfo {
  __typename: string;
  seq: number;
  roomId: string;
  at: string;
  message?: { id: string; clientMessageId: string; body: string; author: { id: string } };
  messageId?: string;
  body?: string;
  user?: { id: string };
}

// ---------------------------------------------------------------------------------------------
// Leak checks

const STACK_MARKERS = ['    at ', 'node_modules'];

/** Throws if `text` looks like it carries a stack trace or an internal file path. */
/**
 * Takes every complete SSE event block off the front of `buffer` (blocks end with a blank line),
 * each checked for stack traces; returns them as { event, data } and what is left of the buffer.
 */
export function takeSseEvents(buffer: string): { events: Array<{ event: string | undefined; data: string }>; rest: string } {
  const events: Array<{ event: string | undefined; data: string }> = [];
  let end: number;
  while ((end = buffer.indexOf('\n\n')) >= 0) {
    const block = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    assertNoStackTrace(block, 'SSE event');
    const event = /^event: (.*)$/m.exec(block)?.[1];
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    events.push({ event, data });
  }
  return { events, rest: buffer };
}

export function assertNoStackTrace(text: string, where = 'response'): void {
  for (const marker of STACK_MARKERS) {
    if (text.includes(marker)) throw new Error(`${where} leaks internals (${JSON.stringify(marker)}):\n${text.slice(0, 2_000)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// GraphQL over HTTP

/** `http://host:port` or `http://host:port/graphql` → the GraphQL endpoint. */
const endpoint = (url: string): string => (url.endsWith('/graphql') ? url : `${url}/graphql`);

/** POSTs one operation; never throws on GraphQL errors (look at `errors`), only on transport failure. */
export async function http<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GqlResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(endpoint(url), {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  assertNoStackTrace(text, `HTTP ${response.status} response`);
  let parsed: { data?: T | null; errors?: GqlError[] } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // Not JSON (e.g. a proxy error page): callers look at status and text.
  }
  return { status: response.status, data: parsed.data, errors: parsed.errors, text };
}

/** Like `http`, but returns `data` and throws if there are errors. */
export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<T> {
  const response = await http<T>(url, query, variables, token);
  if (response.errors?.length || !response.data) {
    throw new Error(`GraphQL request failed (HTTP ${response.status}): ${response.text.slice(0, 1_000)}`);
  }
  return response.data;
}

/** The `extensions.code` of every error in a response (or of an error array). */
export function errorCodes(from: { errors?: readonly GqlError[] } | readonly GqlError[] | undefined): string[] {
  const errors = Array.isArray(from) ? from : (from as { errors?: readonly GqlError[] } | undefined)?.errors;
  return (errors ?? []).map((e: GqlError) => String(e.extensions?.code ?? 'NO_CODE'));
}

export const MESSAGE_FIELDS = 'id clientMessageId roomId seq body deleted editedAt createdAt author { id name }';
export const ROOM_FIELDS = 'id name private headSeq oldestSeq memberCount';
export const ROOM_EVENT_FIELDS = `__typename seq roomId at
  ... on MessagePosted { message { id clientMessageId body author { id } } }
  ... on MessageEdited { messageId body }
  ... on MessageDeleted { messageId }
  ... on MemberJoined { user { id } }
  ... on MemberLeft { user { id } }`;

export const ROOM_EVENTS_SUBSCRIPTION = `subscription RoomEvents($roomId: ID!, $afterSeq: Int) {
  roomEvents(roomId: $roomId, afterSeq: $afterSeq) { ${ROOM_EVENT_FIELDS} }
}`;

export async function createUser(url: string, name: string): Promise<UserSession> {
  const data = await gql<{ createSession: UserSession }>(
    url,
    'mutation($name: String!) { createSession(name: $name) { token user { id name } } }',
    { name },
  );
  return data.createSession;
}

export async function createRoom(url: string, token: string, name: string, password?: string): Promise<RoomInfo> {
  const data = await gql<{ createRoom: RoomInfo }>(
    url,
    `mutation($name: String!, $password: String) { createRoom(name: $name, password: $password) { ${ROOM_FIELDS} } }`,
    { name, password },
    token,
  );
  return data.createRoom;
}

export async function joinRoom(url: string, token: string, roomId: string, password?: string): Promise<RoomInfo> {
  const data = await gql<{ joinRoom: RoomInfo }>(
    url,
    `mutation($roomId: ID!, $password: String) { joinRoom(roomId: $roomId, password: $password) { ${ROOM_FIELDS} } }`,
    { roomId, password },
    token,
  );
  return data.joinRoom;
}

export const SEND_MESSAGE = `mutation Send($roomId: ID!, $body: String!, $clientMessageId: ID!) {
  sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) { ${MESSAGE_FIELDS} }
}`;

/** Sends and returns the whole response (for tests that expect errors). */
export function trySend(url: string, token: string, roomId: string, body: string, clientMessageId: string = randomUUID()) {
  return http<{ sendMessage: MessageInfo }>(url, SEND_MESSAGE, { roomId, body, clientMessageId }, token);
}

export async function sendMessage(url: string, token: string, roomId: string, body: string, clientMessageId: string = randomUUID()): Promise<MessageInfo> {
  const data = await gql<{ sendMessage: MessageInfo }>(url, SEND_MESSAGE, { roomId, body, clientMessageId }, token);
  return data.sendMessage;
}

export async function roomHead(url: string, token: string, roomId: string): Promise<number> {
  const data = await gql<{ room: RoomInfo | null }>(url, `query($id: ID!) { room(id: $id) { ${ROOM_FIELDS} } }`, { id: roomId }, token);
  if (!data.room) throw new Error(`room ${roomId} not found`);
  return data.room.headSeq;
}

/** The whole log after `afterSeq`, paged through the roomEvents query. */
export async function readLog(url: string, token: string, roomId: string, afterSeq = 0): Promise<RoomEventInfo[]> {
  const all: RoomEventInfo[] = [];
  let from = afterSeq;
  for (;;) {
    const data = await gql<{ roomEvents: RoomEventInfo[] }>(
      url,
      `query($roomId: ID!, $afterSeq: Int, $limit: Int) { roomEvents(roomId: $roomId, afterSeq: $afterSeq, limit: $limit) { ${ROOM_EVENT_FIELDS} } }`,
      { roomId, afterSeq: from, limit: 1_000 },
      token,
    );
    all.push(...data.roomEvents);
    if (data.roomEvents.length < 1_000) return all;
    from = data.roomEvents.at(-1)!.seq;
  }
}

// ---------------------------------------------------------------------------------------------
// graphql-ws

/** A graphql-ws client over `ws`, authenticated with `token`; no retries unless asked for. */
export function wsClient(wsUrl: string, token: string | null, options: Partial<ClientOptions> = {}): Client {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
    ...options,
  });
}

export interface Collected<T> {
  items: T[];
  /** Set once the operation ended with an error (GraphQL errors, a CloseEvent, or an Error). */
  error: unknown;
  completed: boolean;
  /** Resolves when the operation completes or errors. */
  done: Promise<void>;
  /** Waits (bounded) until `predicate(items)` holds; rejects with what was collected otherwise. */
  waitFor(predicate: (items: T[]) => boolean, timeoutMs?: number, label?: string): Promise<void>;
  unsubscribe(): void;
}

/** Subscribes through a graphql-ws client and collects every `next` payload's `data[field]`. */
export function collect<T>(client: Client, payload: SubscribePayload, field: string): Collected<T> {
  const items: T[] = [];
  const checks = new Set<() => void>();
  let finish!: () => void;
  const collected: Collected<T> = {
    items,
    error: undefined,
    completed: false,
    done: new Promise<void>((resolve) => (finish = resolve)),
    waitFor(predicate, timeoutMs = 15_000, label = 'condition') {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (predicate(items)) {
            checks.delete(check);
            clearTimeout(timer);
            resolve();
          } else if (collected.error !== undefined || collected.completed) {
            checks.delete(check);
            clearTimeout(timer);
            reject(new Error(`${label}: the subscription ended (${describeError(collected.error)}) after ${items.length} items`));
          }
        };
        const timer = setTimeout(() => {
          checks.delete(check);
          reject(new Error(`${label}: not reached within ${timeoutMs} ms; ${items.length} items, last: ${JSON.stringify(items.at(-1))}`));
        }, timeoutMs);
        checks.add(check);
        check();
      });
    },
    unsubscribe: () => {},
  };
  const runChecks = () => {
    for (const check of [...checks]) check();
  };
  collected.unsubscribe = client.subscribe<Record<string, T>>(payload, {
    next(result) {
      assertNoStackTrace(JSON.stringify(result), 'subscription result');
      if (result.errors?.length) collected.error = result.errors;
      else if (result.data) items.push(result.data[field]!);
      runChecks();
    },
    error(error) {
      collected.error = error;
      finish();
      runChecks();
    },
    complete() {
      collected.completed = true;
      finish();
      runChecks();
    },
  });
  return collected;
}

/** Subscribes to roomEvents and collects the events. */
export function collectRoomEvents(client: Client, roomId: string, afterSeq?: number): Collected<RoomEventInfo> {
  return collect<RoomEventInfo>(client, { query: ROOM_EVENTS_SUBSCRIPTION, variables: { roomId, afterSeq } }, 'roomEvents');
}

export function describeError(error: unknown): string {
  if (error === undefined) return 'no error';
  if (Array.isArray(error)) return JSON.stringify(error);
  if (error && typeof error === 'object' && 'code' in error) {
    const { code, reason } = error as { code: number; reason?: string };
    return `close ${code} ${reason ?? ''}`;
  }
  return String(error);
}

/** Runs one query or mutation over a graphql-ws client and returns the single result. */
export function wsExecute<T = Record<string, unknown>>(client: Client, query: string, variables: Record<string, unknown> = {}) {
  return new Promise<{ data?: T | null; errors?: readonly GqlError[] }>((resolve, reject) => {
    let result: { data?: T | null; errors?: readonly GqlError[] } | undefined;
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          assertNoStackTrace(JSON.stringify(value), 'ws result');
          result = value as typeof result;
        },
        error: (error) => (Array.isArray(error) ? resolve({ errors: error as GqlError[] }) : reject(new Error(describeError(error)))),
        complete: () => (result ? resolve(result) : reject(new Error('completed without a result'))),
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Raw WebSocket client (protocol-level tests)

export interface RawClient {
  ws: WebSocket;
  /** Sends an object as JSON, or a string as is. */
  send(message: object | string): void;
  /** The next message not yet taken, parsed (or as text if it is not JSON). Never misses one. */
  waitForMessage(timeoutMs?: number): Promise<any>;
  /** Takes every message queued so far (parsed), without waiting. */
  drain(): any[];
  /** Fails if a message arrives within `ms`. */
  expectNoMessage(ms: number): Promise<void>;
  waitForClose(timeoutMs?: number): Promise<{ code: number; reason: string }>;
  /** Sends connection_init with the token and waits for connection_ack. */
  init(token?: string | null): Promise<void>;
  close(): void;
}

/**
 * A plain `ws` socket speaking `graphql-transport-ws` (or `protocol`), with every incoming message
 * queued so `waitForMessage` never misses one (as in graphql-ws's own tests).
 */
export async function connectRaw(wsUrl: string, protocol: string | null = 'graphql-transport-ws'): Promise<RawClient> {
  const ws = protocol === null ? new WebSocket(wsUrl) : new WebSocket(wsUrl, protocol);
  const queue: string[] = [];
  let waiting: { resolve: (text: string) => void; reject: (error: Error) => void } | null = null;
  let closeEvent: { code: number; reason: string } | null = null;
  const closeWaiters: Array<(event: { code: number; reason: string }) => void> = [];

  ws.on('message', (data) => {
    const text = data.toString();
    assertNoStackTrace(text, 'WebSocket message');
    if (waiting) {
      const { resolve } = waiting;
      waiting = null;
      resolve(text);
    } else queue.push(text);
  });
  ws.on('close', (code, reason) => {
    closeEvent = { code, reason: reason.toString() };
    assertNoStackTrace(closeEvent.reason, 'close reason');
    for (const wake of closeWaiters.splice(0)) wake(closeEvent);
    if (waiting) {
      const { reject } = waiting;
      waiting = null;
      reject(new Error(`socket closed (${code} ${closeEvent.reason}) while waiting for a message`));
    }
  });
  ws.on('error', () => {
    // Surfaces as 'close' too; the tests assert on close codes.
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`could not open ${wsUrl} within 10 s`)), 10_000);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`${wsUrl} closed (${code}) before it opened`));
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`${wsUrl} answered the upgrade with HTTP ${res.statusCode}`));
    });
  });

  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };

  const client: RawClient = {
    ws,
    send(message) {
      ws.send(typeof message === 'string' ? message : JSON.stringify(message));
    },
    waitForMessage(timeoutMs = 5_000) {
      const next = queue.shift();
      if (next !== undefined) return Promise.resolve(parse(next));
      if (closeEvent) return Promise.reject(new Error(`socket closed (${closeEvent.code} ${closeEvent.reason}); no message queued`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting = null;
          reject(new Error(`no message within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting = {
          resolve: (text) => {
            clearTimeout(timer);
            resolve(parse(text));
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
      });
    },
    drain() {
      return queue.splice(0).map(parse);
    },
    async expectNoMessage(ms) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      if (queue.length > 0) throw new Error(`unexpected message: ${queue[0]}`);
    },
    waitForClose(timeoutMs = 5_000) {
      if (closeEvent) return Promise.resolve(closeEvent);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`socket not closed within ${timeoutMs} ms`)), timeoutMs);
        closeWaiters.push((event) => {
          clearTimeout(timer);
          resolve(event);
        });
      });
    },
    async init(token) {
      client.send({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} });
      const ack = (await client.waitForMessage()) as { type?: string };
      if (ack?.type !== 'connection_ack') throw new Error(`expected connection_ack, got ${JSON.stringify(ack)}`);
    },
    close() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
    },
  };
  return client;
}

// ---------------------------------------------------------------------------------------------
// Small utilities

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, label = 'condition', intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`${label} not reached within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
    await sleep(intervalMs);
  }
}

/** [from, from+1, …, to] (empty when to < from). */
export const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** Runs `tasks` with at most `concurrency` at once, preserving result order. */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}
