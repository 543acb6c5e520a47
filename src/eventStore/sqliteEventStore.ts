import Database from 'better-sqlite3';
import {
  DuplicateEventIdError,
  WrongExpectedRevisionError,
  type AllSubscription,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type StoredEvent,
  type SubscribeToAllOptions,
} from './eventStore.js';
import { followLog } from './followLog.js';
import type { DeletesOldEvents, RetentionScanEntry } from './retentionCapabilities.js';

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

// Every query selects the columns in this order so rows can be read raw (as arrays), which is
// several times faster than building an object per row when replaying the whole log.
const COLUMNS = 'position, id, stream, revision, type, data, created_at';
type Row = [position: number, id: string, stream: string, revision: number, type: string, data: string, createdAt: number];

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
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;

  const db = new Database(options.file);
  // busy_timeout first: switching to WAL and creating the table may wait for another process.
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      position   INTEGER PRIMARY KEY,
      id         TEXT    NOT NULL UNIQUE,
      stream     TEXT    NOT NULL,
      revision   INTEGER NOT NULL,
      type       TEXT    NOT NULL,
      data       TEXT    NOT NULL,
      created_at INTEGER NOT NULL,
      UNIQUE (stream, revision)
    ) STRICT
  `);

  const idExists = db.prepare<[string], 1>('SELECT 1 FROM events WHERE id = ?').pluck();
  const lastRevision = db
    .prepare<[string], number>('SELECT coalesce(max(revision), 0) FROM events WHERE stream = ?')
    .pluck();
  const headPosition = db.prepare<[], number>('SELECT coalesce(max(position), 0) FROM events').pluck();
  const selectOne = db.prepare<[], number>('SELECT 1').pluck();
  const insert = db.prepare<[string, string, number, string, string, number]>(
    'INSERT INTO events (id, stream, revision, type, data, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  // LIMIT -1 means no limit in SQLite, so one statement serves both cases.
  const selectForwards = db
    .prepare<[string, number, number], Row>(
      `SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
    )
    .raw();
  const selectBackwards = db
    .prepare<[string, number, number], Row>(
      `SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
    )
    .raw();
  const selectAfter = db
    .prepare<[number, number], Row>(`SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`)
    .raw();

  const appendTransaction = db.transaction(
    (stream: string, events: NewEvent[], jsons: string[], expectedRevision: ExpectedRevision): AppendResult => {
      // Ids before revision: a resend of an append that already succeeded carries a now-stale
      // expectation, and must still report DuplicateEventIdError so the caller sees it as done.
      for (const event of events) {
        if (idExists.get(event.id)) throw new DuplicateEventIdError(event.id);
      }
      const actual = lastRevision.get(stream) ?? 0;
      if (expectedRevision !== 'any' && expectedRevision !== actual) {
        throw new WrongExpectedRevisionError(stream, expectedRevision, actual);
      }
      const now = Date.now();
      const stored = events.map((event, i): StoredEvent => {
        const revision = actual + i + 1;
        const json = jsons[i] as string;
        const createdAt = event.createdAt ?? now;
        const { lastInsertRowid } = insert.run(event.id, stream, revision, event.type, json, createdAt);
        const data = JSON.parse(json) as unknown;
        return { id: event.id, type: event.type, data, stream, revision, position: Number(lastInsertRowid), createdAt };
      });
      const last = stored[stored.length - 1] as StoredEvent;
      return { revision: last.revision, position: last.position, events: stored };
    },
  );

  const wakers = new Set<() => void>();
  const subscriptions = new Set<AllSubscription>();
  let closed = false;

  async function append(stream: string, events: NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    if (events.length === 0) throw new Error(`append to ${stream}: no events given`);
    const batchIds = new Set<string>();
    for (const event of events) {
      if (batchIds.has(event.id)) throw new DuplicateEventIdError(event.id);
      batchIds.add(event.id);
    }
    const jsons = events.map((event) => JSON.stringify(event.data ?? null));
    for (let attempt = 1; ; attempt++) {
      try {
        const result = appendTransaction.immediate(stream, events, jsons, expectedRevision);
        for (const wake of wakers) wake();
        return result;
      } catch (error) {
        // busy_timeout already waited inside SQLite; this covers the cases its handler does not
        // (e.g. SQLITE_BUSY_RECOVERY) and a writer in another process holding the lock for longer.
        if (!isBusy(error) || attempt >= BUSY_RETRIES) throw error;
        await sleep(BUSY_BACKOFF_MS * attempt * (0.5 + Math.random()));
      }
    }
  }

  function subscribeToAll(options: SubscribeToAllOptions): AllSubscription {
    if (closed) throw new Error('sqlite event store is closed');
    // Appends by this instance wake the loop at once; appends by other processes sharing the
    // file are found by the poll. Positions become visible in order (see above), so reading
    // "after the last delivered position" never skips a slower writer's event.
    const subscription = followLog({
      ...options,
      readAfter: (after, limit) => (selectAfter.all(after, limit) as Row[]).map(toStoredEvent),
      pageSize: SUBSCRIPTION_PAGE_SIZE,
      pollIntervalMs,
      wakers,
      onClosed: (done) => subscriptions.delete(done),
    });
    subscriptions.add(subscription);
    return subscription;
  }

  const scanForRetention = db.prepare<[{ since: number; prefix: string }], RetentionScanEntry>(
    `SELECT stream, max(revision) AS head, min(CASE WHEN created_at >= @since THEN revision END) AS firstSince
       FROM events WHERE substr(stream, 1, length(@prefix)) = @prefix GROUP BY stream`,
  );

  /** Retention by deleting rows. Never the stream's last event nor the store's newest: both numbers must stay taken. */
  function trimStream(stream: string, beforeRevision: number, types: readonly string[]): number {
    const placeholders = types.map(() => '?').join(', ');
    const statement = db.prepare(
      `DELETE FROM events WHERE stream = ? AND revision < ? AND type IN (${placeholders})
         AND revision < (SELECT max(revision) FROM events WHERE stream = ?)
         AND position < (SELECT max(position) FROM events)`,
    );
    return statement.run(stream, beforeRevision, ...types, stream).changes;
  }

  return {
    append: (stream, events, { expectedRevision }) => append(stream, events, expectedRevision),
    trimStream: async (stream, { beforeRevision, types }) => trimStream(stream, beforeRevision, types),
    retentionScan: async ({ prefix, since }) => scanForRetention.all({ since, prefix }),
    async readStream(stream, { direction = 'forwards', fromRevision, limit = -1 } = {}) {
      const rows =
        direction === 'backwards'
          ? selectBackwards.all(stream, fromRevision ?? Number.MAX_SAFE_INTEGER, limit)
          : selectForwards.all(stream, fromRevision ?? 1, limit);
      return rows.map(toStoredEvent);
    },
    streamRevision: async (stream) => lastRevision.get(stream) ?? 0,
    readAll: async ({ afterPosition = 0, limit = -1 } = {}) => selectAfter.all(afterPosition, limit).map(toStoredEvent),
    headPosition: async () => headPosition.get() ?? 0,
    subscribeToAll,
    async ping() {
      try {
        return db.open && selectOne.get() === 1;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      db.close();
    },
  };
}

function toStoredEvent(row: Row): StoredEvent {
  const [position, id, stream, revision, type, data, createdAt] = row;
  return { id, type, data: JSON.parse(data) as unknown, stream, revision, position, createdAt };
}

function isBusy(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A wake-up flag that remembers a notify arriving while nobody waits; waiting also ends on a poll timeout. */
