/**
 * The error codes Node gives a connection that never reached its server (refused, no route, name
 * not resolved, timed out) or lost it (reset, broken pipe): the server did not answer, as opposed
 * to answering no. One list for whoever must tell the two apart (the PostgreSQL store, the
 * one-line reasons a node gives when it cannot start).
 */
export const UNREACHABLE_SERVER_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
