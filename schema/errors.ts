import { GraphQLError } from 'graphql';
import { ChatError, RateLimitedError, UnavailableError, type ChatErrorKind } from '../src/domain/errors.js';
import type { ErrorCode } from './codes.js';

/*
 * The one place where the chat's own errors (src/domain/errors.ts, which know nothing of GraphQL)
 * become what the GraphQL API promises: the same message, and `extensions.code` from the table in
 * schema/codes.ts (plus `retryAfterMs` for a rate limit). Every transport edge calls this: Yoga's
 * error masking (HTTP, SSE, and the WebSocket operations run through Yoga's envelop) and the
 * graphql-ws paths that answer before or beside Yoga (src/server/graphqlWs.ts, sharedExecution.ts).
 */

/** The public code of each kind: `satisfies` makes a new kind without a code fail the typecheck. */
export const ERROR_CODE_OF_KIND = {
  unauthenticated: 'UNAUTHENTICATED',
  forbidden: 'FORBIDDEN',
  not_found: 'NOT_FOUND',
  invalid_input: 'BAD_USER_INPUT',
  too_large: 'PAYLOAD_TOO_LARGE',
  rate_limited: 'RATE_LIMITED',
  unavailable: 'UNAVAILABLE',
} as const satisfies Record<ChatErrorKind, ErrorCode>;

/** `extensions` of the GraphQL error a ChatError becomes. */
export function errorExtensions(error: ChatError): { code: ErrorCode; retryAfterMs?: number } {
  const code = ERROR_CODE_OF_KIND[error.kind];
  return error instanceof RateLimitedError || error instanceof UnavailableError ? { code, retryAfterMs: error.retryAfterMs } : { code };
}

/**
 * The ChatError behind `error`: itself, or the one a GraphQLError wraps as its `originalError`
 * (graphql-js wraps whatever a resolver throws in a GraphQLError that says where it happened).
 */
export function chatErrorOf(error: unknown): ChatError | null {
  for (let cause = error; cause; cause = cause instanceof GraphQLError ? cause.originalError : undefined) {
    if (cause instanceof ChatError) return cause;
  }
  return null;
}

/**
 * The public GraphQL error for a ChatError, or for a GraphQLError raised from one (keeping where
 * it happened: path and locations); null for anything else, which the caller masks. The result
 * has no `originalError`, so Yoga and graphql-ws treat it as an error raised on purpose.
 */
export function toGraphQLError(error: unknown): GraphQLError | null {
  const chat = chatErrorOf(error);
  if (!chat) return null;
  const at = error instanceof GraphQLError ? error : undefined;
  return new GraphQLError(chat.message, {
    nodes: at?.nodes,
    source: at?.source,
    positions: at?.positions,
    path: at?.path,
    extensions: errorExtensions(chat),
  });
}
