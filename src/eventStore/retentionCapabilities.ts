import type { EventStore } from './eventStore.js';

/*
 * Retention is not part of the EventStore port: a store can forget old events in one of two ways,
 * each a capability of its own that an adapter declares in its factory's return type (SQLite
 * deletes, EventStoreDB keeps stream metadata, the memory store does either, by option). The
 * retention job in src/retention picks its strategy with the type guards below; each capability
 * has its own contract suite in test/contracts.
 */

/** One stream as `retentionScan` reports it. */
export interface RetentionScanEntry {
  stream: string;
  /** The stream's last revision. */
  head: number;
  /** The first remaining revision created at or after `since`; null when none is that new. */
  firstSince: number | null;
}

/**
 * Retention by deleting events (SQLite). The store deletes exactly what it is told to, at once,
 * and nothing else: a room keeps its structural events (creation, joins, leaves) and is still
 * folded from its own stream, so no snapshot is needed.
 */
export interface DeletesOldEvents {
  /**
   * Deletes the stream's events of the given types with a revision below `beforeRevision`; never
   * the stream's last event nor the newest event of the whole store (so neither the stream's
   * revision nor the store's head position ever goes back and gets reused). Other types, and the
   * revisions and positions of what remains, are untouched. Resolves with how many it deleted.
   */
  trimStream(stream: string, options: { beforeRevision: number; types: readonly string[] }): Promise<number>;
  /**
   * Per stream whose name starts with `prefix`: its last revision and where its events created
   * at or after `since` begin, in one pass over the store (what the retention job decides from).
   */
  retentionScan(options: { prefix: string; since: number }): Promise<RetentionScanEntry[]>;
}

/**
 * Retention by stream metadata (EventStoreDB's `$maxCount` and `$tb`). The store drops a stream's
 * whole prefix, structural events included, so whoever uses it must keep a snapshot of the room
 * inside what the settings keep (src/retention does).
 */
export interface KeepsStreamMetadata {
  /**
   * From now on, reads of the stream return only the events the settings keep, and the store may
   * delete the rest for good later (a scavenge). What a read returns keeps its revisions; the
   * stream's revision (and so the next append's expectation) is unchanged. `readAll` and
   * `subscribeToAll` may still return dropped events until they are deleted. Fields left out keep
   * their setting.
   */
  setStreamRetention(stream: string, retention: StreamRetention): Promise<void>;
  /**
   * The stream's settings as they are in the store now (set by whichever node set them last):
   * `maxCount` null when none, `truncateBefore` left out when none.
   */
  streamRetention(stream: string): Promise<StreamRetention>;
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

export function deletesOldEvents<S extends EventStore>(store: S): store is S & DeletesOldEvents {
  const candidate = store as Partial<DeletesOldEvents>;
  return typeof candidate.trimStream === 'function' && typeof candidate.retentionScan === 'function';
}

export function keepsStreamMetadata<S extends EventStore>(store: S): store is S & KeepsStreamMetadata {
  return typeof (store as Partial<KeepsStreamMetadata>).setStreamRetention === 'function';
}
