import type { CombinedError } from '@urql/core';
import { CloseCodes, closeCodeInfo, ErrorCodes, isErrorCode, type ErrorCode } from '../../schema/codes.js';

/**
 * What a client call can fail with. The server's error codes come through as they are (the
 * table in schema/codes.ts, which the server uses too); the client adds NETWORK (no answer:
 * retried where that is safe), CLOSED (the client was closed) and INTERNAL (an error the server
 * masked, or a code this client does not know).
 */
export type ChatErrorCode = ErrorCode | 'NETWORK' | 'CLOSED' | 'INTERNAL';

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

/**
 * Codes that no retry can fix: the call is wrong, not the connection. From the table: every
 * server code whose `retry` is false; of the client's own, CLOSED (NETWORK and INTERNAL may pass).
 */
export const isFinal = (error: ChatClientError): boolean => error.code === 'CLOSED' || (isErrorCode(error.code) && !ErrorCodes[error.code].retry);

/**
 * The close codes after which reconnecting cannot help (`reconnect: false` in schema/codes.ts,
 * README "WebSocket close codes"): a refused token is UNAUTHENTICATED, the others (a malformed
 * message, a wrong subprotocol) BAD_USER_INPUT. Every other code (1006 a dead node, 1012 a
 * restart, 4008 a slow consumer, 4499 a frozen socket we terminated, …) means "reconnect": null.
 */
export function closeCodeError(code: number, reason: string): ChatClientError | null {
  if (closeCodeInfo(code).reconnect) return null;
  if (code === CloseCodes.Forbidden.code) return new ChatClientError('UNAUTHENTICATED', 'the session token was refused: create a new session', { closeCode: code });
  return new ChatClientError('BAD_USER_INPUT', `the server closed the connection: ${code} ${reason}`, { closeCode: code });
}

/** An urql error as a ChatClientError: the first GraphQL error's code, or NETWORK. */
export function fromCombinedError(error: CombinedError): ChatClientError {
  const first = error.graphQLErrors[0];
  if (first) {
    const extensions = (first.extensions ?? {}) as { code?: unknown; retryAfterMs?: unknown };
    const code: ChatErrorCode = isErrorCode(extensions.code) ? extensions.code : 'INTERNAL';
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
