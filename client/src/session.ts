import { stringifyDocument } from '@urql/core';
import { isErrorCode } from '../../schema/codes.js';
import { ChatClientError } from './errors.js';
import { CREATE_SESSION } from './operations.js';
import type { Session } from './types.js';
import { toHttpUrl } from './urls.js';

/**
 * A new anonymous session (GraphQL over HTTP, no token needed). With several URLs, the first node
 * that answers makes it; any node of a cluster accepts the token.
 */
export async function createSession(url: string | readonly string[], name: string, options: { fetch?: typeof fetch } = {}): Promise<Session> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const urls = typeof url === 'string' ? [url] : url;
  let lastError: unknown = new ChatClientError('NETWORK', 'no URL given');
  for (const candidate of urls) {
    let response: Response;
    try {
      response = await doFetch(toHttpUrl(candidate), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        // The text urql would send for it over the socket.
        body: JSON.stringify({ query: stringifyDocument(CREATE_SESSION), variables: { name } }),
      });
    } catch (error) {
      lastError = new ChatClientError('NETWORK', `could not reach ${candidate}: ${(error as Error).message}`);
      continue;
    }
    const body = (await response.json().catch(() => null)) as { data?: { createSession?: Session }; errors?: Array<{ message: string; extensions?: { code?: string } }> } | null;
    const session = body?.data?.createSession;
    if (session) return session;
    const first = body?.errors?.[0];
    if (first) {
      const code = first.extensions?.code;
      throw new ChatClientError(isErrorCode(code) ? code : 'INTERNAL', first.message);
    }
    lastError = new ChatClientError('NETWORK', `${candidate} answered ${response.status}`);
  }
  throw lastError;
}
