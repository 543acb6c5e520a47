/**
 * Messages between the bench orchestrator (run.ts) and the load-client child process.
 * Every request carries a `reqId`; the child answers once with the same `reqId`.
 */
import type { AbuseRequest } from './abuseProtocol.js';

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

/**
 * Fan-out requests may name a `key`: the load client then keeps several fan-out setups at once
 * (one per key, each its own room, publisher and subscribers), so phases through different
 * fronts can be interleaved. Without a key they share one default setup.
 */
export interface Keyed {
  key?: string;
}

export interface PrepareRoomRequest extends Keyed {
  cmd: 'prepareRoom';
  /** Sessions, the room and the publisher socket are made through this URL. */
  url: string;
  /** Reuse the sessions already created under this key (same cluster) instead of creating more. */
  sessionsFrom?: string;
  /**
   * Members that publish in turn, each with its own session and socket (default 1, the owner):
   * with the send limit on, a rate no single user may send is spread over several.
   */
  publishers?: number;
}

export interface CreateSessionsRequest extends Keyed {
  cmd: 'createSessions';
  url: string;
  count: number;
}

export interface OpenSubscribersRequest extends Keyed {
  cmd: 'openSubscribers';
  url: string;
  /** Subscriber i connects to urls[i % urls.length] (default: `url`), e.g. two nodes of a cluster. */
  urls?: string[];
  /** Latency group of each entry of `urls` (same length); default: its index. See `latencyByGroup`. */
  groups?: number[];
  count: number;
  /** Give up on the "every subscriber saw a probe" check after this long. */
  liveTimeoutMs: number;
  /** A probe message is sent this often until every subscriber has seen one (default 250 ms). */
  probeIntervalMs?: number;
}

export interface OpenSubscribersResult {
  opened: number;
  failed: number;
  firstError?: string;
  /** Subscribers that saw a probe message, i.e. are known to be live. */
  live: number;
  elapsedMs: number;
  /** From the first connect until every socket was open, initialised and had sent its subscribe. */
  connectedMs: number;
  /** From the first connect until every subscriber had seen a probe message: connected and subscribed. */
  liveMs: number;
}

export interface PublishRequest extends Keyed {
  cmd: 'publish';
  phase: string;
  ratePerSecond: number;
  durationMs: number;
  /** After the last publish, wait at most this long for outstanding deliveries. */
  drainMs: number;
  /** Also return `relativeByGroup` (raw, so it is only asked for where it is used). */
  relative?: boolean;
  /** Also return the latency histogram's buckets (`histogram`), to pool phases of several rooms or processes. */
  histogram?: boolean;
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
  /** The same, by the group of the URL each subscriber connected to (openSubscribers' `groups`, or `urls` in order). */
  latencyByGroup: LatencySummary[];
  /**
   * By group, every delivery's arrival minus the median arrival of the same message at group 0's
   * subscribers, in units of 10 µs: the delivery leg's spread with the send leg's (common to all
   * groups) taken out, raw so that rounds can be pooled before taking quantiles.
   */
  relativeByGroup?: number[][];
  /** Time from the last publish until the last delivery arrived (or the drain gave up). */
  drainMs: number;
  /** With `histogram`: Histogram.sparse() of the latencies. */
  histogram?: Array<[number, number]>;
}

export interface CloseAllRequest extends Keyed {
  cmd: 'closeAll';
}

/** Closes the subscribers only: the room, its publishers and the sessions stay for the next openSubscribers. */
export interface CloseSubscribersRequest extends Keyed {
  cmd: 'closeSubscribers';
}

/** New connections: open + upgrade + connection_init/ack, then close and wait for the close, in a loop. */
export interface ConnectRateRequest {
  cmd: 'connectRate';
  /** Connection i goes to urls[i % urls.length]; the session is made through urls[0]. */
  urls: string[];
  durationMs: number;
  /** Connections in flight at once. */
  concurrency: number;
  maxConnections: number;
}

export interface ConnectRateResult {
  completed: number;
  failed: number;
  firstError?: string;
  elapsedMs: number;
  perSecond: number;
  /** Open → connection_ack. */
  latency: LatencySummary;
  /** Close sent → socket closed. */
  closeLatency: LatencySummary;
}

export type LoadRequest =
  | ThroughputRequest
  | PrepareRoomRequest
  | CreateSessionsRequest
  | OpenSubscribersRequest
  | PublishRequest
  | CloseAllRequest
  | CloseSubscribersRequest
  | ConnectRateRequest
  | AbuseRequest;

export type Envelope<T> = T & { reqId: number };

export type LoadReply = { reqId: number; ok: true; result: unknown } | { reqId: number; ok: false; error: string };
