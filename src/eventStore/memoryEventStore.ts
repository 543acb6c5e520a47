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
  type StreamRetention,
  type SubscribeToAllOptions,
  firstKeptRevision,
} from './eventStore.js';
import { followLog } from './followLog.js';

/** A stored event with its data kept as JSON text, exactly as the SQLite adapter keeps it. */
interface EventRecord {
  id: string;
  type: string;
  json: string;
  stream: string;
  revision: number;
  position: number;
  createdAt: number;
}

/**
 * An in-memory event store for tests and single-process development. It serves ONE process only
 * and keeps nothing on disk: everything is gone when the process exits, so the port's durability
 * guarantee holds only for the life of the process. All other guarantees hold.
 *
 * Data goes through JSON on the way in and out, as with SQLite, so callers see the same values
 * (dates become strings, `undefined` becomes `null`) and can never mutate what is stored.
 */
export function createMemoryEventStore(): EventStore {
  // `log[i]` has position i + 1, so positions are dense and a position is also an index.
  const log: EventRecord[] = [];
  const streams = new Map<string, EventRecord[]>();
  const ids = new Set<string>();
  const retention = new Map<string, StreamRetention>();
  const wakers = new Set<() => void>();
  const subscriptions = new Set<AllSubscription>();
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new Error('memory event store is closed');
  }

  function append(stream: string, events: NewEvent[], expectedRevision: ExpectedRevision): AppendResult {
    assertOpen();
    if (events.length === 0) throw new Error(`append to ${stream}: no events given`);
    // Duplicate ids are checked before the revision so that a resend of an already stored append
    // reports DuplicateEventIdError (idempotent success) even though its expectation is now stale.
    const batchIds = new Set<string>();
    for (const event of events) {
      if (ids.has(event.id) || batchIds.has(event.id)) throw new DuplicateEventIdError(event.id);
      batchIds.add(event.id);
    }
    const existing = streams.get(stream);
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
        position: log.length + i + 1,
        createdAt: event.createdAt ?? now,
      }),
    );
    for (const record of records) {
      log.push(record);
      ids.add(record.id);
    }
    if (existing) existing.push(...records);
    else streams.set(stream, records);
    for (const wake of wakers) wake();
    const last = records[records.length - 1] as EventRecord;
    return { revision: last.revision, position: last.position, events: records.map(toStoredEvent) };
  }

  function readStream(stream: string, options: ReadStreamOptions = {}): StoredEvent[] {
    assertOpen();
    const records = streams.get(stream) ?? [];
    const limit = options.limit ?? Infinity;
    // As EventStoreDB does: what retention drops is never returned, whatever revision is asked.
    const firstKept = firstKeptRevision(retention.get(stream), records.length) - 1;
    if (options.direction === 'backwards') {
      const from = Math.min(options.fromRevision ?? records.length, records.length);
      const start = Math.max(firstKept, from - limit);
      return records.slice(start, Math.max(from, start)).reverse().map(toStoredEvent);
    }
    const start = Math.max(firstKept, Math.max(1, options.fromRevision ?? 1) - 1);
    return records.slice(start, start + limit).map(toStoredEvent);
  }

  function readAll(options: ReadAllOptions = {}): StoredEvent[] {
    assertOpen();
    const start = Math.max(0, options.afterPosition ?? 0);
    return log.slice(start, start + (options.limit ?? Infinity)).map(toStoredEvent);
  }

  function subscribeToAll(options: SubscribeToAllOptions): AllSubscription {
    assertOpen();
    const subscription = followLog({
      ...options,
      // `log[i]` has position i + 1: the events after position p start at index p.
      readAfter: (after, limit) => log.slice(after, after + limit).map(toStoredEvent),
      pageSize: 1_000,
      wakers,
      onClosed: (closed) => subscriptions.delete(closed),
    });
    subscriptions.add(subscription);
    return subscription;
  }

  return {
    append: async (stream, events, { expectedRevision }) => append(stream, events, expectedRevision),
    readStream: async (stream, options) => readStream(stream, options),
    streamRevision: async (stream) => {
      assertOpen();
      return streams.get(stream)?.length ?? 0;
    },
    readAll: async (options) => readAll(options),
    headPosition: async () => {
      assertOpen();
      return log.length;
    },
    subscribeToAll,
    setStreamRetention: async (stream, settings) => {
      assertOpen();
      const current = retention.get(stream) ?? {};
      const truncateBefore = Math.max(current.truncateBefore ?? 1, settings.truncateBefore ?? 1);
      const maxCount = settings.maxCount === undefined ? current.maxCount : settings.maxCount;
      retention.set(stream, { truncateBefore, maxCount });
    },
    ping: async () => !closed,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
    },
  };
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

/** A wake-up flag that remembers a notify arriving while nobody waits, so no append is missed. */
