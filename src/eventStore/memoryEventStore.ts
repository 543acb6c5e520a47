import {
  DuplicateEventIdError,
  WrongExpectedRevisionError,
  type AllSubscription,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StoredEvent,
  type SubscribeToAllOptions,
} from './eventStore.js';
import { followLog } from './followLog.js';
import {
  firstKeptRevision,
  type DeletesOldEvents,
  type KeepsStreamMetadata,
  type RetentionScanEntry,
  type StreamRetention,
} from './retentionCapabilities.js';

/** A stored event with its data kept as JSON text, exactly as the SQLite adapter keeps it. */
interface EventRecord {
  id: string;
  type: string;
  json: string;
  stream: string;
  revision: number;
  position: number;
  createdAt: number;
  /** Deleted by `trimStream`: its revision and position stay taken, reads skip it. */
  deleted?: boolean;
}

export interface MemoryEventStoreOptions {
  /**
   * How it forgets old events: by stream metadata like EventStoreDB (the default, so a node on
   * EVENT_STORE=memory behaves as on EventStoreDB), or by deleting them like SQLite. One or the
   * other, never both, so the retention job's choice is the same as on the store it stands in for.
   */
  retention?: 'streamMetadata' | 'deleteOldEvents';
}

/**
 * An in-memory event store for tests and single-process development. It serves ONE process only
 * and keeps nothing on disk: everything is gone when the process exits, so the port's durability
 * guarantee holds only for the life of the process. All other guarantees hold.
 *
 * Data goes through JSON on the way in and out, as with SQLite, so callers see the same values
 * (dates become strings, `undefined` becomes `null`) and can never mutate what is stored.
 */
export function createMemoryEventStore(options?: { retention?: 'streamMetadata' }): EventStore & KeepsStreamMetadata;
export function createMemoryEventStore(options: { retention: 'deleteOldEvents' }): EventStore & DeletesOldEvents;
export function createMemoryEventStore(options?: MemoryEventStoreOptions): EventStore & (KeepsStreamMetadata | DeletesOldEvents);
export function createMemoryEventStore(options: MemoryEventStoreOptions = {}): EventStore & (KeepsStreamMetadata | DeletesOldEvents) {
  const store: MemoryStore = {
    log: [],
    streams: new Map(),
    ids: new Set(),
    retention: new Map(),
    wakers: new Set(),
    subscriptions: new Set(),
    closed: false,
  };
  const port: EventStore = {
    append: async (stream, events, { expectedRevision }) => append(store, stream, events, expectedRevision),
    readStream: async (stream, readOptions) => readStream(store, stream, readOptions),
    streamRevision: async (stream) => {
      assertOpen(store);
      return store.streams.get(stream)?.length ?? 0;
    },
    readAll: async (readOptions) => readAll(store, readOptions),
    headPosition: async () => {
      assertOpen(store);
      return store.log.length;
    },
    subscribeToAll: (subscribeOptions) => subscribeToAll(store, subscribeOptions),
    ping: async () => !store.closed,
    close: () => close(store),
  };
  if (options.retention === 'deleteOldEvents') {
    return {
      ...port,
      trimStream: async (stream, { beforeRevision, types }) => trimStream(store, stream, beforeRevision, types),
      retentionScan: async ({ prefix, since }) => retentionScan(store, prefix, since),
    };
  }
  return {
    ...port,
    setStreamRetention: async (stream, settings) => setStreamRetention(store, stream, settings),
    streamRetention: async (stream) => streamRetention(store, stream),
  };
}

/** What every operation of one store works on. */
interface MemoryStore {
  // `log[i]` has position i + 1, so positions are dense and a position is also an index.
  log: EventRecord[];
  /** Each stream's records; `records[i]` has revision i + 1. */
  streams: Map<string, EventRecord[]>;
  ids: Set<string>;
  retention: Map<string, StreamRetention>;
  /** One per live subscription: an append calls them all. */
  wakers: Set<() => void>;
  subscriptions: Set<AllSubscription>;
  closed: boolean;
}

function assertOpen(store: MemoryStore): void {
  if (store.closed) throw new Error('memory event store is closed');
}

function append(store: MemoryStore, stream: string, events: NewEvent[], expectedRevision: ExpectedRevision): AppendResult {
  assertOpen(store);
  if (events.length === 0) throw new Error(`append to ${stream}: no events given`);
  // Duplicate ids are checked before the revision so that a resend of an already stored append
  // reports DuplicateEventIdError (idempotent success) even though its expectation is now stale.
  const batchIds = new Set<string>();
  for (const event of events) {
    if (store.ids.has(event.id) || batchIds.has(event.id)) throw new DuplicateEventIdError(event.id);
    batchIds.add(event.id);
  }
  const existing = store.streams.get(stream);
  const actual = existing?.length ?? 0;
  if (expectedRevision !== 'any' && expectedRevision !== actual) {
    throw new WrongExpectedRevisionError(stream, expectedRevision, actual);
  }
  // Serialise everything before storing anything, so a bad payload leaves the store untouched.
  const jsons = events.map((event) => JSON.stringify(event.data ?? null));
  const now = Date.now();
  const records = events.map(
    (event, i): EventRecord => ({
      id: event.id,
      type: event.type,
      json: jsons[i] as string,
      stream,
      revision: actual + i + 1,
      position: store.log.length + i + 1,
      createdAt: event.createdAt ?? now,
    }),
  );
  for (const record of records) {
    store.log.push(record);
    store.ids.add(record.id);
  }
  if (existing) existing.push(...records);
  else store.streams.set(stream, records);
  for (const wake of store.wakers) wake();
  const last = records[records.length - 1] as EventRecord;
  return { revision: last.revision, position: last.position, events: records.map(toStoredEvent) };
}

function readStream(store: MemoryStore, stream: string, options: ReadStreamOptions = {}): StoredEvent[] {
  assertOpen(store);
  const records = store.streams.get(stream) ?? [];
  const limit = options.limit ?? Infinity;
  // As EventStoreDB does: what retention drops is never returned, whatever revision is asked.
  // `records[i]` has revision i + 1.
  const firstKept = firstKeptRevision(store.retention.get(stream), records.length) - 1;
  const found: StoredEvent[] = [];
  if (options.direction === 'backwards') {
    const from = Math.min(options.fromRevision ?? records.length, records.length) - 1;
    for (let i = from; i >= firstKept && found.length < limit; i--) pick(records[i], found);
    return found;
  }
  const from = Math.max(firstKept, Math.max(1, options.fromRevision ?? 1) - 1);
  for (let i = from; i < records.length && found.length < limit; i++) pick(records[i], found);
  return found;
}

/** Up to `limit` events after `position`, skipping deleted ones (`log[i]` has position i + 1). */
function readAfter(store: MemoryStore, position: number, limit: number): StoredEvent[] {
  const found: StoredEvent[] = [];
  for (let i = Math.max(0, position); i < store.log.length && found.length < limit; i++) pick(store.log[i], found);
  return found;
}

function readAll(store: MemoryStore, options: ReadAllOptions = {}): StoredEvent[] {
  assertOpen(store);
  return readAfter(store, options.afterPosition ?? 0, options.limit ?? Infinity);
}

function setStreamRetention(store: MemoryStore, stream: string, settings: StreamRetention): void {
  assertOpen(store);
  const current = store.retention.get(stream) ?? {};
  const truncateBefore = Math.max(current.truncateBefore ?? 1, settings.truncateBefore ?? 1);
  const maxCount = settings.maxCount === undefined ? current.maxCount : settings.maxCount;
  store.retention.set(stream, { truncateBefore, maxCount });
}

function streamRetention(store: MemoryStore, stream: string): StreamRetention {
  assertOpen(store);
  const current = store.retention.get(stream);
  return { maxCount: current?.maxCount ?? null, ...(current?.truncateBefore && current.truncateBefore > 1 ? { truncateBefore: current.truncateBefore } : {}) };
}

/** As SQLite does it; a deleted id stays taken, which the port allows (ids are unique forever). */
function trimStream(store: MemoryStore, stream: string, beforeRevision: number, types: readonly string[]): number {
  assertOpen(store);
  const records = store.streams.get(stream) ?? [];
  // Never the stream's last event nor the store's newest: both numbers must stay taken.
  const end = Math.min(beforeRevision - 1, records.length - 1);
  let deleted = 0;
  for (let i = 0; i < end; i++) {
    const record = records[i] as EventRecord;
    if (record.deleted || !types.includes(record.type) || record.position === store.log.length) continue;
    record.deleted = true;
    deleted++;
  }
  return deleted;
}

function retentionScan(store: MemoryStore, prefix: string, since: number): RetentionScanEntry[] {
  assertOpen(store);
  const entries: RetentionScanEntry[] = [];
  for (const [stream, records] of store.streams) {
    if (!stream.startsWith(prefix)) continue;
    const first = records.find((record) => !record.deleted && record.createdAt >= since);
    entries.push({ stream, head: records.length, firstSince: first?.revision ?? null });
  }
  return entries;
}

function subscribeToAll(store: MemoryStore, options: SubscribeToAllOptions): AllSubscription {
  assertOpen(store);
  const subscription = followLog({
    ...options,
    readAfter: (position, limit) => readAfter(store, position, limit),
    pageSize: 1_000,
    wakers: store.wakers,
    onClosed: (closed) => store.subscriptions.delete(closed),
  });
  store.subscriptions.add(subscription);
  return subscription;
}

async function close(store: MemoryStore): Promise<void> {
  if (store.closed) return;
  store.closed = true;
  await Promise.all([...store.subscriptions].map((subscription) => subscription.close()));
}

function pick(record: EventRecord | undefined, into: StoredEvent[]): void {
  if (record && !record.deleted) into.push(toStoredEvent(record));
}

function toStoredEvent(record: EventRecord): StoredEvent {
  return {
    id: record.id,
    type: record.type,
    data: JSON.parse(record.json) as unknown,
    stream: record.stream,
    revision: record.revision,
    position: record.position,
    createdAt: record.createdAt,
  };
}
