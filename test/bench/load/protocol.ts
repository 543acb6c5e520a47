/**
 * Messages between the bench orchestrator (run.ts) and the load-client child process.
 * Every request carries a `reqId`; the child answers once with the same `reqId`.
 */

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface ThroughputRequest {
  cmd: 'throughput';
  url: string;
  senders: number;
  /** Senders are spread round-robin over this many rooms. */
  rooms: number;
  durationMs: number;
  maxMessages: number;
}

export interface ThroughputResult {
  acked: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  perSecond: number;
  latency: LatencySummary;
  /** The same seq returned twice for one room: the server broke its sequence guarantee. */
  duplicateSeqs: number;
}

export interface PrepareRoomRequest {
  cmd: 'prepareRoom';
  url: string;
}

export interface CreateSessionsRequest {
  cmd: 'createSessions';
  url: string;
  count: number;
}

export interface OpenSubscribersRequest {
  cmd: 'openSubscribers';
  url: string;
  count: number;
  /** Give up on the "every subscriber saw a probe" check after this long. */
  liveTimeoutMs: number;
}

export interface OpenSubscribersResult {
  opened: number;
  failed: number;
  firstError?: string;
  /** Subscribers that saw a probe message, i.e. are known to be live. */
  live: number;
  elapsedMs: number;
}

export interface PublishRequest {
  cmd: 'publish';
  phase: string;
  ratePerSecond: number;
  durationMs: number;
  /** After the last publish, wait at most this long for outstanding deliveries. */
  drainMs: number;
}

export interface PublishResult {
  published: number;
  publishErrors: number;
  firstError?: string;
  subscribers: number;
  expected: number;
  /** Deliveries received while publishing ran, divided by the publish duration. */
  deliveriesPerSecond: number;
  delivered: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  /** A subscriber saw a seq not greater than the previous one it saw (duplicate or reorder). */
  seqViolations: number;
  /** Subscriptions that ended with an error or whose socket closed during the phase. */
  subscriberErrors: number;
  latency: LatencySummary;
  /** Time from the last publish until the last delivery arrived (or the drain gave up). */
  drainMs: number;
}

export interface CloseAllRequest {
  cmd: 'closeAll';
}

export type LoadRequest =
  | ThroughputRequest
  | PrepareRoomRequest
  | CreateSessionsRequest
  | OpenSubscribersRequest
  | PublishRequest
  | CloseAllRequest;

export type Envelope<T> = T & { reqId: number };

export type LoadReply = { reqId: number; ok: true; result: unknown } | { reqId: number; ok: false; error: string };
