import { GraphQLError } from 'graphql';

/**
 * The error codes of the public contract (API.md). Each becomes `extensions.code` of a GraphQL
 * error. ChatError extends GraphQLError on purpose: Yoga's error masking lets GraphQLErrors
 * through and replaces everything else (bugs, driver errors) with "Unexpected error.", so only
 * errors we raise deliberately ever reach a client, and never with a stack trace.
 */
export type ChatErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE';

export class ChatError extends GraphQLError {
  constructor(
    readonly code: ChatErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { code, ...extra } });
    this.name = 'ChatError';
  }
}

export const unauthenticated = (message = 'a session is required: call createSession and send its token') =>
  new ChatError('UNAUTHENTICATED', message);
export const forbidden = (message: string) => new ChatError('FORBIDDEN', message);
export const notFound = (what: string) => new ChatError('NOT_FOUND', `${what} not found`);
export const badInput = (message: string) => new ChatError('BAD_USER_INPUT', message);
export const payloadTooLarge = (message: string) => new ChatError('PAYLOAD_TOO_LARGE', message);
export const rateLimited = (retryAfterMs: number) =>
  new ChatError('RATE_LIMITED', `too many messages; retry in ${Math.ceil(retryAfterMs / 1000)} s`, {
    retryAfterMs: Math.ceil(retryAfterMs),
  });

/**
 * WebSocket close codes we use beyond graphql-ws's own (4400 bad request, 4401 unauthorized,
 * 4403 forbidden, 4408 init timeout, 4409 duplicate id, 4429 too many inits, 4500 internal).
 * Codes 4000–4099 mean "reconnect and resume with afterSeq"; 44xx mean "fix the request".
 */
export const CloseCodes = {
  /** The client read too slowly and the server stopped buffering for it: reconnect, resume by seq. */
  SlowConsumer: 4008,
  /** The server is restarting (standard 1012): reconnect, probably to another node. */
  ServiceRestart: 1012,
} as const;
