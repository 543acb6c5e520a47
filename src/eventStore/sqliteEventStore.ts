import Database from 'better-sqlite3';
import {
  DuplicateEventIdError,
  EventStoreUnavailableError,
  WrongExpectedRevisionError,
  type AllSubscription,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadStreamOptions,
  type StoredEvent,
  type SubscribeToAllOptions,
} from './eventStore.js';
import { followLog } from './followLog.js';
import type { DeletesOldEvents } from './retentionCapabilities.js';
import { deleteOldEvents, openEventsDatabase, prepareStatements, toStoredEvent, type SqliteStatements } from './sqliteSchema.js';

export interface SqliteEventStoreOptions {
  /** Path of the database file; several processes may open the same file. */
  file: string;
  /** How often a live subscription looks for appends made by other processes. */
  pollIntervalMs?: number;
  /** How long SQLite itself waits for another connection's write lock before reporting busy. */
  busyTimeoutMs?: number;
}

const DEFAULT_POLL_INTERVAL_MS = 100;
const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const SUBSCRIPTION_PAGE_SIZE = 1000;
const BUSY_RETRIES = 20;
const BUSY_BACKOFF_MS = 10;

type AppendTransaction = Database.Transaction<
  (stream: string, events: NewEvent[], jsons: string[], expectedRevision: ExpectedRevision) => AppendResult
>;

/** What every operation of one store works on. */
interface SqliteStore {
  db: Database.Database;
  sql: SqliteStatements;
  appendTransaction: AppendTransaction;
  pollIntervalMs: number;
  /** One per live subscription of this instance: an append calls them all. */
  wakers: Set<() => void>;
  subscriptions: Set<AllSubscription>;
  closed: boolean;
}

/**
 * The event store on a SQLite file (better-sqlite3), safe to share between processes.
 *
 * - WAL journal with `synchronous=FULL`: a commit is fsynced before `append` resolves.
 * - `position` is the INTEGER PRIMARY KEY (the rowid). Without AUTOINCREMENT SQLite assigns
 *   max(rowid)+1, which only ever grows because the newest event is never deleted (retention
 *   deletes old message rows only: it declares DeletesOldEvents).
 * - Appends run in `BEGIN IMMEDIATE`, which takes the database's single write lock up front, so the
 *   expected-revision and duplicate-id checks and the position assignment happen under one lock.
 *   Writers are therefore serialised across processes and commit in position order: a reader can
 *   never see position p+1 before p. Subscriptions rely on this to read "everything after the
 *   last position delivered" without ever skipping a slow writer's event.
 */
export function createSqliteEventStore(options: SqliteEventStoreOptions): EventStore & DeletesOldEvents {
  const db = openEventsDatabase(options.file, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
  const sql = prepareStatements(db);
  const store: SqliteStore = {
    db,
    sql,
    appendTransaction: db.transaction(
      (stream: string, events: NewEvent[], jsons: string[], expectedRevision: ExpectedRevision): AppendResult =>
        insertEvents(sql, stream, events, jsons, expectedRevision),
    ),
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    wakers: new Set(),
    subscriptions: new Set(),
    closed: false,
  };

  return {
    append: (stream, events, { expectedRevision }) => append(store, stream, events, expectedRevision),
    trimStream: async (stream, { beforeRevision, types }) => deleteOldEvents(db, stream, beforeRevision, types),
    retentionScan: async ({ prefix, since }) => sql.scanForRetention.all({ since, prefix }),
    readStream: async (stream, readOptions) => readStream(sql, stream, readOptions),
    streamRevision: async (stream) => sql.lastRevision.get(stream) ?? 0,
    readAll: async ({ afterPosition = 0, limit = -1 } = {}) => sql.selectAfter(limit).all(afterPosition).map(toStoredEvent),
    headPosition: async () => sql.headPosition.get() ?? 0,
    subscribeToAll: (subscribeOptions) => subscribeToAll(store, subscribeOptions),
    ping: async () => ping(store),
    close: () => close(store),
  };
}

/** The body of the append transaction: runs under the write lock (see createSqliteEventStore). */
function insertEvents(
  sql: SqliteStatements,
  stream: string,
  events: NewEvent[],
  jsons: string[],
  expectedRevision: ExpectedRevision,
): AppendResult {
  // Ids before revision: a resend of an append that already succeeded carries a now-stale
  // expectation, and must still report DuplicateEventIdError so the caller sees it as done.
  for (const event of events) {
    if (sql.idExists.get(event.id)) throw new DuplicateEventIdError(event.id);
  }
  const actual = sql.lastRevision.get(stream) ?? 0;
  if (expectedRevision !== 'any' && expectedRevision !== actual) {
    throw new WrongExpectedRevisionError(stream, expectedRevision, actual);
  }
  const now = Date.now();
  const stored = events.map((event, i): StoredEvent => {
    const revision = actual + i + 1;
    const json = jsons[i] as string;
    const createdAt = event.createdAt ?? now;
    const { lastInsertRowid } = sql.insert.run(event.id, stream, revision, event.type, json, createdAt);
    const data = JSON.parse(json) as unknown;
    return { id: event.id, type: event.type, data, stream, revision, position: Number(lastInsertRowid), createdAt };
  });
  const last = stored[stored.length - 1] as StoredEvent;
  return { revision: last.revision, position: last.position, events: stored };
}

async function append(store: SqliteStore, stream: string, events: NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
  if (events.length === 0) throw new Error(`append to ${stream}: no events given`);
  const batchIds = new Set<string>();
  for (const event of events) {
    if (batchIds.has(event.id)) throw new DuplicateEventIdError(event.id);
    batchIds.add(event.id);
  }
  const jsons = events.map((event) => JSON.stringify(event.data ?? null));
  for (let attempt = 1; ; attempt++) {
    try {
      const result = store.appendTransaction.immediate(stream, events, jsons, expectedRevision);
      for (const wake of store.wakers) wake();
      return result;
    } catch (error) {
      // busy_timeout already waited inside SQLite; this covers the cases its handler does not
      // (e.g. SQLITE_BUSY_RECOVERY) and a writer in another process holding the lock for longer.
      if (!isBusy(error)) throw error;
      // Another process has held the write lock through every retry: busy, not broken.
      if (attempt >= BUSY_RETRIES) throw new EventStoreUnavailableError(error);
      await sleep(BUSY_BACKOFF_MS * attempt * (0.5 + Math.random()));
    }
  }
}

function readStream(sql: SqliteStatements, stream: string, { direction = 'forwards', fromRevision, limit = -1 }: ReadStreamOptions = {}): StoredEvent[] {
  const rows =
    direction === 'backwards'
      ? sql.selectBackwards(limit).all(stream, fromRevision ?? Number.MAX_SAFE_INTEGER)
      : sql.selectForwards(limit).all(stream, fromRevision ?? 1);
  return rows.map(toStoredEvent);
}

function subscribeToAll(store: SqliteStore, options: SubscribeToAllOptions): AllSubscription {
  if (store.closed) throw new Error('sqlite event store is closed');
  // Appends by this instance wake the loop at once; appends by other processes sharing the
  // file are found by the poll. Positions become visible in order (see createSqliteEventStore), so
  // reading "after the last delivered position" never skips a slower writer's event.
  const subscription = followLog({
    ...options,
    readAfter: (after, limit) => store.sql.selectAfter(limit).all(after).map(toStoredEvent),
    pageSize: SUBSCRIPTION_PAGE_SIZE,
    pollIntervalMs: store.pollIntervalMs,
    wakers: store.wakers,
    onClosed: (done) => store.subscriptions.delete(done),
  });
  store.subscriptions.add(subscription);
  return subscription;
}

function ping(store: SqliteStore): boolean {
  try {
    return store.db.open && store.sql.selectOne.get() === 1;
  } catch {
    return false;
  }
}

async function close(store: SqliteStore): Promise<void> {
  if (store.closed) return;
  store.closed = true;
  await Promise.all([...store.subscriptions].map((subscription) => subscription.close()));
  store.db.close();
}

function isBusy(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
