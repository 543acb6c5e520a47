/**
 * The codes of the public contract, in one table that the server and the client both import
 * (the client must not copy them: a code added here reaches both, or the typecheck fails).
 *
 * Two families:
 * - **Error codes**: `extensions.code` of a GraphQL error. Each says whether trying the same call
 *   again can ever succeed (`retry`): only RATE_LIMITED and UNAVAILABLE can, after
 *   `extensions.retryAfterMs`.
 * - **WebSocket close codes**: each says whether the client should reconnect (and resume every
 *   room with `afterSeq`, losing nothing) or stop and fix something first. Like Centrifuge's
 *   disconnect table, the split is by range where the protocol lets us choose: 4000–4099 and the
 *   standard 1xxx transient codes mean "reconnect"; 44xx mean "don't, the request is wrong".
 *   Codes 4400–4504 are graphql-ws's own; 4008 and 1012 are ours.
 */

export const ErrorCodes = {
  UNAUTHENTICATED: { retry: false, meaning: 'no session, or its token is invalid or expired: create a session' },
  FORBIDDEN: { retry: false, meaning: 'the session may not do this (not a member, not the author, wrong password)' },
  NOT_FOUND: { retry: false, meaning: 'no such room or message' },
  BAD_USER_INPUT: { retry: false, meaning: 'an argument is malformed or out of range' },
  RATE_LIMITED: { retry: true, meaning: 'too many writes, or too many heavy reads at once: retry after extensions.retryAfterMs' },
  PAYLOAD_TOO_LARGE: { retry: false, meaning: 'a body, name or request is over its size limit' },
  UNAVAILABLE: { retry: true, meaning: 'not now: the answer would be stale or partial (history being rebuilt), its store does not answer, or a slow subscription was ended: retry (resume with afterSeq) after extensions.retryAfterMs' },
} as const satisfies Record<string, { retry: boolean; meaning: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

export const isErrorCode = (code: unknown): code is ErrorCode => typeof code === 'string' && Object.hasOwn(ErrorCodes, code);

export interface CloseCodeInfo {
  code: number;
  /** True: reconnect (with backoff) and resume by seq. False: reconnecting cannot help. */
  reconnect: boolean;
  meaning: string;
}

export const CloseCodes = {
  /** The client read too slowly and the server stopped buffering for it. */
  SlowConsumer: { code: 4008, reconnect: true, meaning: 'slow consumer: reconnect and resume with afterSeq' },
  /** The node is draining (SIGTERM). */
  ServiceRestart: { code: 1012, reconnect: true, meaning: 'server restarting: reconnect and resume with afterSeq' },
  /** A frame over the server's request size limit. */
  MessageTooBig: { code: 1009, reconnect: true, meaning: 'frame too large: send less' },
  /** graphql-ws: a malformed protocol message. */
  BadRequest: { code: 4400, reconnect: false, meaning: 'malformed message' },
  /** graphql-ws: subscribe before the connection was acknowledged. */
  Unauthorized: { code: 4401, reconnect: true, meaning: 'subscribed before connection_ack' },
  /** graphql-ws: `onConnect` refused the connection (an invalid or expired token). */
  Forbidden: { code: 4403, reconnect: false, meaning: 'invalid or expired token: create a new session' },
  /** graphql-ws: the socket did not speak `graphql-transport-ws`. */
  SubprotocolNotAcceptable: { code: 4406, reconnect: false, meaning: 'wrong subprotocol' },
  /** graphql-ws: no `connection_init` in time. */
  ConnectionInitialisationTimeout: { code: 4408, reconnect: true, meaning: 'no connection_init in time' },
  /** graphql-ws: two operations with one id. */
  SubscriberAlreadyExists: { code: 4409, reconnect: true, meaning: 'duplicate operation id' },
  /** graphql-ws: `connection_init` sent twice. */
  TooManyInitialisationRequests: { code: 4429, reconnect: true, meaning: 'connection_init sent twice' },
  /** graphql-ws client: the client itself terminated a socket that stopped answering. */
  Terminated: { code: 4499, reconnect: true, meaning: 'terminated by the client' },
  /** graphql-ws: an unexpected server error. */
  InternalServerError: { code: 4500, reconnect: true, meaning: 'internal server error' },
} as const satisfies Record<string, CloseCodeInfo>;

const byCode = new Map<number, CloseCodeInfo>(Object.values(CloseCodes).map((info) => [info.code, info]));

/** What a close code means; codes not in the table (1000, 1001, 1006, …) mean "reconnect". */
export function closeCodeInfo(code: number): CloseCodeInfo {
  return byCode.get(code) ?? { code, reconnect: true, meaning: 'connection closed' };
}
