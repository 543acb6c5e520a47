/**
 * The event store port: an append-only log of streams (one per room, `room-<id>`).
 *
 * Guarantees every adapter must keep (the contract suite in test/contracts checks them):
 * - A stream's events have revisions 1, 2, 3, … with no gap and no reuse. (EventStoreDB counts from 0;
 *   its adapter adds one, so a room's `seq` IS the stream revision everywhere.)
 * - `append` is atomic: all of its events are stored, or none.
 * - `append` checks `expectedRevision` under the same lock that assigns revisions, so two writers
 *   racing on one stream can never both succeed with the same expectation.
 * - Event ids are unique across the whole store: appending an id that is already stored fails with
 *   `DuplicateEventIdError` and stores nothing. This is what makes a resend idempotent.
 * - Every stored event also has a global `position`, strictly increasing in commit order across all
 *   streams. `readAll` and `subscribeToAll` deliver in position order.
 * - Once `append` resolves, the events are durable (they survive `kill -9` of the process).
 */
export interface NewEvent {
  /** Unique id; a deterministic id makes a retried append idempotent. */
  id: string;
  type: string;
  data: unknown;
  /**
   * When it happened, if not now: only for moving events between stores (import), so a room's
   * history keeps its times. Adapters that cannot set it keep it beside the event.
   */
  createdAt?: number;
}

export interface StoredEvent {
  id: string;
  type: string;
  data: unknown;
  stream: string;
  /** 1-based position within the stream (a room's `seq`). */
  revision: number;
  /** Global position across all streams, strictly increasing in commit order. */
  position: number;
  /** When the store accepted it, milliseconds since the epoch. */
  createdAt: number;
}

/** `0` = the stream must not exist yet; `n` = its last revision must be exactly `n`; `'any'` = no check. */
export type ExpectedRevision = number | 'any';

export interface AppendResult {
  /** The stream's revision after the append (the revision of the last appended event). */
  revision: number;
  /** The global position of the last appended event. */
  position: number;
  events: StoredEvent[];
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive. Forwards defaults to 1, backwards to the stream's last revision. */
  fromRevision?: number;
  /** At most this many events. Defaults to all. */
  limit?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events with a greater position. Defaults to 0 (from the start). */
  afterPosition?: number;
  limit?: number;
}

export interface SubscribeToAllOptions {
  /** Exclusive: catch up from the first event after this position, then go live. */
  afterPosition: number;
  /**
   * Called once per event, in position order, never concurrently: the next call waits for the
   * returned promise, so a slow handler slows the subscription rather than piling up events.
   */
  onEvent: (event: StoredEvent) => void | Promise<void>;
  /** The subscription stopped because reading or `onEvent` failed. It does not restart by itself. */
  onError?: (error: unknown) => void;
}

export interface AllSubscription {
  /** Stops delivery; resolves once no `onEvent` call is running. */
  close(): Promise<void>;
}

export interface EventStore {
  append(stream: string, events: NewEvent[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult>;
  /** A missing stream reads as empty. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;
  /** The stream's last revision, 0 when it does not exist. */
  streamRevision(stream: string): Promise<number>;
  readAll(options?: ReadAllOptions): Promise<StoredEvent[]>;
  /** Position of the newest event in the store, 0 when empty. */
  headPosition(): Promise<number>;
  subscribeToAll(options: SubscribeToAllOptions): AllSubscription;
  /**
   * Retention (optional: an adapter without it cannot trim). Deletes the stream's events of the
   * given types with a revision below `beforeRevision`, never the newest event of the whole store
   * (its position must stay taken). Other types, and the revisions of what remains, are untouched.
   */
  trimStream?(stream: string, options: { beforeRevision: number; types: readonly string[] }): Promise<number>;
  /**
   * Retention: per stream, its last revision and the first revision of each event created at or
   * after `since` (null when none is), for the streams whose names start with `prefix`.
   */
  retentionScan?(options: { prefix: string; since: number }): Promise<Array<{ stream: string; head: number; firstSince: number | null }>>;
  /**
   * Retention by stream metadata (optional; EventStoreDB's `$maxCount` and `$tb`): from now on,
   * reads of the stream return only the events the settings keep, and the store may delete the
   * rest for good later (a scavenge). What a read returns keeps its revisions; the stream's
   * revision (and so the next append's expectation) is unchanged. `readAll` and `subscribeToAll`
   * may still return dropped events until they are deleted. Fields left out keep their setting.
   */
  setStreamRetention?(stream: string, retention: StreamRetention): Promise<void>;
  /** True when the backing store answers (used by /readyz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface StreamRetention {
  /** Keep only the stream's newest this-many events; null lifts the limit. */
  maxCount?: number | null;
  /** Keep only events at or after this revision. A lower value than the current one is ignored. */
  truncateBefore?: number;
}

/** The first revision a stream's retention settings keep, given its last revision. Pure. */
export function firstKeptRevision(retention: StreamRetention | undefined, head: number): number {
  let first = Math.max(1, retention?.truncateBefore ?? 1);
  if (retention?.maxCount != null) first = Math.max(first, head - retention.maxCount + 1);
  return first;
}

export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: number,
  ) {
    super(`stream ${stream}: expected revision ${expected}, actual ${actual}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

export class DuplicateEventIdError extends Error {
  constructor(readonly eventId: string) {
    super(`event ${eventId} is already stored`);
    this.name = 'DuplicateEventIdError';
  }
}
