import { UnavailableError } from '../domain/errors.js';

/**
 * The event store port: an append-only log of streams (one per room, `room-<id>`).
 *
 * Guarantees every adapter must keep (the contract suite in test/contracts checks them):
 * - A stream's events have revisions 1, 2, 3, … with no gap and no reuse. (EventStoreDB counts from 0;
 *   its adapter adds one, so a room's `seq` IS the stream revision everywhere.)
 * - `append` is atomic: all of its events are stored, or none. (EventStoreDB refuses an append over
 *   its maximum size, 1 MiB by default; its adapter stores a larger one in consecutive parts, each
 *   atomic and each expecting the revision the part before left, so nothing comes in between, and
 *   if a later part fails the error says which revisions are stored.)
 * - `append` checks `expectedRevision` under the same lock that assigns revisions, so two writers
 *   racing on one stream can never both succeed with the same expectation.
 * - A repeated append (the same ids at the same expected revision, e.g. a resend racing its
 *   original) stores nothing more: it fails with `DuplicateEventIdError` or resolves with the
 *   original events (revisions, positions, times). Beyond that, ids are checked per store:
 *   - memory, SQLite and PostgreSQL: ids are unique across the whole store; any append holding a stored id
 *     (or one id twice) fails with `DuplicateEventIdError` and stores nothing;
 *   - EventStoreDB: only the repeat above is recognised (and answered with the original events,
 *     never an error); an append whose expectation holds is stored whatever its ids, and ids are
 *     not compared across streams.
 *   What the application relies on is therefore only the first rule plus the expected revision:
 *   a resend is recognised by the room itself (the room decider appends nothing for a known
 *   messageId; src/domain/room.ts), and a resend racing its original loses on the expectation.
 * - An append to a stream deleted in the store (an EventStoreDB tombstone) fails with
 *   `StreamDeletedError`; reads see the deleted stream as empty.
 * - Every stored event also has a global `position`, strictly increasing in commit order across all
 *   streams. `readAll` and `subscribeToAll` deliver in position order.
 * - Once `append` resolves, the events are durable (they survive `kill -9` of the process).
 *
 * Forgetting old events (retention) is not part of the port: a store that can, declares one of
 * the capabilities in retentionCapabilities.ts beside this file.
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
  /**
   * The subscription stopped because `onEvent` failed (or reading failed in a way the adapter does
   * not recover from). It does not restart by itself. Transport errors an adapter recovers from
   * by resubscribing (EventStoreDB) are not reported here: the subscription goes on by itself.
   */
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
  /** True when the backing store answers (used by /readyz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
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

/**
 * The store did not answer (connection refused or lost, timed out, busy past its retries), as
 * opposed to answering no. Whatever asked may ask again: it reaches a client as UNAVAILABLE with
 * `retryAfterMs`. An append that failed so may or may not be stored; appending the same ids again
 * is idempotent (see the guarantees above), and a resent message is answered from the log.
 */
export class EventStoreUnavailableError extends UnavailableError {
  constructor(cause: unknown, retryAfterMs = 1_000) {
    super('the event log does not answer right now; retry shortly', retryAfterMs);
    this.name = 'EventStoreUnavailableError';
    this.cause = cause;
  }
}

export class StreamDeletedError extends Error {
  constructor(readonly stream: string) {
    super(`stream ${stream} was deleted in the event store; nothing can be appended to it again`);
    this.name = 'StreamDeletedError';
  }
}
