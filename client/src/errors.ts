import type { CombinedError } from '@urql/core';

/**
 * What a client call can fail with. The server's codes (API.md) come through as they are;
 * the client adds NETWORK (no answer: retried where that is safe), CLOSED (the client was
 * closed) and INTERNAL (an error the server masked).
 */
export type ChatErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  | 'NETWORK'
  | 'CLOSED'
  | 'INTERNAL';

export class ChatClientError extends Error {
  /** For RATE_LIMITED: how long to wait before the next send. */
  readonly retryAfterMs: number | undefined;
  /** For NETWORK: the WebSocket close code, when the socket closed. */
  readonly closeCode: number | undefined;

  constructor(
    readonly code: ChatErrorCode,
    message: string,
    details: { retryAfterMs?: number; closeCode?: number } = {},
  ) {
    super(message);
    this.name = 'ChatClientError';
    this.retryAfterMs = details.retryAfterMs;
    this.closeCode = details.closeCode;
  }
}

/** Codes that no retry can fix: the call is wrong, not the connection. */
const FINAL = new Set<ChatErrorCode>(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'PAYLOAD_TOO_LARGE', 'CLOSED']);
export const isFinal = (error: ChatClientError): boolean => FINAL.has(error.code);

const KNOWN = new Set<string>(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'RATE_LIMITED', 'PAYLOAD_TOO_LARGE']);

/**
 * Close codes after which reconnecting cannot help (README, "WebSocket close codes"): 4403 a bad
 * token, 4400 a malformed message, 4406 a wrong subprotocol. Everything else (1006 a dead node,
 * 1012 a restart, 4008 a slow consumer, 4499 a frozen socket we terminated) means "reconnect".
 */
export function closeCodeError(code: number, reason: string): ChatClientError | null {
  if (code === 4403) return new ChatClientError('UNAUTHENTICATED', 'the session token was refused: create a new session', { closeCode: code });
  if (code === 4400 || code === 4406) return new ChatClientError('BAD_USER_INPUT', `the server closed the connection: ${code} ${reason}`, { closeCode: code });
  return null;
}

/** An urql error as a ChatClientError: the first GraphQL error's code, or NETWORK. */
export function fromCombinedError(error: CombinedError): ChatClientError {
  const first = error.graphQLErrors[0];
  if (first) {
    const extensions = (first.extensions ?? {}) as { code?: unknown; retryAfterMs?: unknown };
    const code = typeof extensions.code === 'string' && KNOWN.has(extensions.code) ? (extensions.code as ChatErrorCode) : 'INTERNAL';
    const retryAfterMs = typeof extensions.retryAfterMs === 'number' ? extensions.retryAfterMs : undefined;
    return new ChatClientError(code, first.message, { retryAfterMs });
  }
  return fromNetworkError(error.networkError);
}

/** A failed connection or a closed socket (a CloseEvent-like object from graphql-ws), or a thrown error. */
export function fromNetworkError(cause: unknown): ChatClientError {
  if (cause instanceof ChatClientError) return cause;
  const close = cause as { code?: unknown; reason?: unknown } | undefined;
  if (close && typeof close.code === 'number') {
    const reason = typeof close.reason === 'string' ? close.reason : '';
    return closeCodeError(close.code, reason) ?? new ChatClientError('NETWORK', `connection closed (${close.code}${reason ? ` ${reason}` : ''})`, { closeCode: close.code });
  }
  const message = cause instanceof Error ? cause.message : (cause as { message?: unknown } | undefined)?.message;
  return new ChatClientError('NETWORK', `connection failed${typeof message === 'string' && message ? `: ${message}` : ''}`);
}
