/**
 * What the abuse tests need beyond test/support/gql.ts: a GraphQL POST with headers of our own
 * (X-Forwarded-For) and from a chosen local address (127.0.0.2, …), so a test can be "another
 * client address" on one machine; and a few mutations as one-liners.
 */
import { request } from 'node:http';
import { assertNoStackTrace, takeSseEvents, type GqlError, type GqlResponse } from '../support/gql.js';

export interface PostOptions {
  token?: string;
  headers?: Record<string, string>;
  /** The local address the connection comes from (any of 127.0.0.0/8 works on Linux). */
  localAddress?: string;
}

/** POSTs one operation over node:http; never throws on GraphQL errors, only on transport failure. */
export function post<T = Record<string, unknown>>(url: string, query: string, variables: Record<string, unknown> = {}, options: PostOptions = {}): Promise<GqlResponse<T>> {
  const body = JSON.stringify({ query, variables });
  const target = new URL(url.endsWith('/graphql') ? url : `${url}/graphql`);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
    'content-length': Buffer.byteLength(body),
    ...options.headers,
  };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers, localAddress: options.localAddress, agent: false, timeout: 20_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          assertNoStackTrace(text, `HTTP ${res.statusCode} response`);
          let parsed: { data?: T | null; errors?: GqlError[] } = {};
          try {
            parsed = JSON.parse(text) as typeof parsed;
          } catch {
            // Not JSON: callers look at status and text.
          }
          resolve({ status: res.statusCode ?? 0, data: parsed.data, errors: parsed.errors, text });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

export const CREATE_SESSION = 'mutation($name: String!) { createSession(name: $name) { token user { id name } } }';
export const CREATE_ROOM = 'mutation($name: String!, $password: String) { createRoom(name: $name, password: $password) { id private } }';
export const JOIN = 'mutation($roomId: ID!, $password: String) { joinRoom(roomId: $roomId, password: $password) { id memberCount } }';
export const LEAVE = 'mutation($roomId: ID!) { leaveRoom(roomId: $roomId) { id memberCount } }';
export const EDIT = 'mutation($messageId: ID!, $body: String!) { editMessage(messageId: $messageId, body: $body) { id body } }';
export const DELETE = 'mutation($messageId: ID!) { deleteMessage(messageId: $messageId) { id deleted } }';
export const TYPING = 'mutation($roomId: ID!, $typing: Boolean!) { setTyping(roomId: $roomId, typing: $typing) }';

/** The one error code of a response ('' when it succeeded), with retryAfterMs when it carries one. */
export function outcome(response: { errors?: readonly GqlError[] }): { code: string; retryAfterMs?: number } {
  const error = response.errors?.[0];
  if (!error) return { code: '' };
  const { code, retryAfterMs } = error.extensions ?? {};
  return retryAfterMs === undefined ? { code: String(code) } : { code: String(code), retryAfterMs };
}

/** How many of `codes` are each code: `{ '': 20, RATE_LIMITED: 80 }`. */
export function tally(codes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}

export interface SseStream {
  /** Every `next` payload so far. */
  payloads: Array<{ data?: Record<string, unknown> | null; errors?: GqlError[] }>;
  /** Resolves when the server ends the stream (`complete` event or end of body). */
  ended: Promise<void>;
  close(): void;
}

/** A subscription over SSE (POST with Accept: text/event-stream), read as it arrives. */
export async function sse(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<SseStream> {
  const abort = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream', 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }), signal: abort.signal });
  if (!response.ok || !response.body) throw new Error(`SSE answered ${response.status}`);
  const payloads: SseStream['payloads'] = [];
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        const taken = takeSseEvents(buffer);
        buffer = taken.rest;
        for (const { event, data } of taken.events) {
          if (event === 'complete') return;
          if ((event === 'next' || !event) && data) payloads.push(JSON.parse(data));
        }
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
  })();
  return { payloads, ended, close: () => abort.abort() };
}
