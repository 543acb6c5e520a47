import Database from 'better-sqlite3';
import type { StoredEvent } from './eventStore.js';
import type { RetentionScanEntry } from './retentionCapabilities.js';

/*
 * The SQLite event store's table and every statement it runs, in one place. What the statements
 * guarantee together (positions in commit order, one writer at a time) is explained at
 * createSqliteEventStore in sqliteEventStore.ts.
 */

// Every query selects the columns in this order so rows can be read raw (as arrays), which is
// several times faster than building an object per row when replaying the whole log.
const COLUMNS = 'position, id, stream, revision, type, data, created_at';
export type Row = [position: number, id: string, stream: string, revision: number, type: string, data: string, createdAt: number];

/** Opens the file (creating the table if it is new) with the durability settings the port needs. */
export function openEventsDatabase(file: string, busyTimeoutMs: number): Database.Database {
  const db = new Database(file);
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
  return db;
}

export type SqliteStatements = ReturnType<typeof prepareStatements>;

/** The statements the store runs, prepared once per connection. */
export function prepareStatements(db: Database.Database) {
  return {
    idExists: db.prepare<[string], 1>('SELECT 1 FROM events WHERE id = ?').pluck(),
    lastRevision: db.prepare<[string], number>('SELECT coalesce(max(revision), 0) FROM events WHERE stream = ?').pluck(),
    headPosition: db.prepare<[], number>('SELECT coalesce(max(position), 0) FROM events').pluck(),
    selectOne: db.prepare<[], number>('SELECT 1').pluck(),
    insert: db.prepare<[string, string, number, string, string, number]>(
      'INSERT INTO events (id, stream, revision, type, data, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    // The limit is never a bound parameter: see byLimit.
    selectForwards: byLimit<[string, number]>(db, `SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision`),
    selectBackwards: byLimit<[string, number]>(db, `SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC`),
    selectAfter: byLimit<[number]>(db, `SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position`),
    scanForRetention: db.prepare<[{ since: number; prefix: string }], RetentionScanEntry>(
      `SELECT stream, max(revision) AS head, min(CASE WHEN created_at >= @since THEN revision END) AS firstSince
         FROM events WHERE substr(stream, 1, length(@prefix)) = @prefix GROUP BY stream`,
    ),
  };
}

/** How many LIMIT values one query keeps a statement for (page sizes: a few in practice). */
const STATEMENTS_PER_QUERY = 32;

/**
 * A query's statement for a given limit (negative or Infinity: none), with the limit written into its text,
 * prepared once and kept for the `STATEMENTS_PER_QUERY` limits used most recently.
 *
 * Why not `LIMIT ?`: SQLite reads the value bound to a LIMIT parameter while planning and marks
 * the statement to be compiled again whenever that parameter is bound anew, so every call paid a
 * full parse and plan: 5 µs instead of 0.6 in a tight loop, 40 to 100 µs in a busy node, where
 * reading a room's tail for an access check was a tenth of the cost of accepting a subscription.
 */
export function byLimit<Params extends unknown[]>(db: Database.Database, sql: string): (limit: number) => Database.Statement<Params, Row> {
  const statements = new Map<number, Database.Statement<Params, Row>>();
  return (limit) => {
    const key = limit < 0 || limit === Infinity ? -1 : limit;
    if (!Number.isSafeInteger(key)) throw new RangeError(`a read's limit must be a whole number, not ${limit}`);
    let statement = statements.get(key);
    if (statement) {
      // Most recently used last (a Map iterates in insertion order): a client cycling through
      // limits evicts its own, not the page sizes every read uses.
      statements.delete(key);
    } else {
      statement = db.prepare<Params, Row>(key < 0 ? sql : `${sql} LIMIT ${key}`).raw();
      if (statements.size >= STATEMENTS_PER_QUERY) statements.delete(statements.keys().next().value!);
    }
    statements.set(key, statement);
    return statement;
  };
}

/**
 * Retention by deleting rows. Never the stream's last event nor the store's newest: both numbers
 * must stay taken. Prepared per call: the number of types decides the statement's placeholders.
 */
export function deleteOldEvents(db: Database.Database, stream: string, beforeRevision: number, types: readonly string[]): number {
  const placeholders = types.map(() => '?').join(', ');
  const statement = db.prepare(
    `DELETE FROM events WHERE stream = ? AND revision < ? AND type IN (${placeholders})
       AND revision < (SELECT max(revision) FROM events WHERE stream = ?)
       AND position < (SELECT max(position) FROM events)`,
  );
  return statement.run(stream, beforeRevision, ...types, stream).changes;
}

export function toStoredEvent(row: Row): StoredEvent {
  const [position, id, stream, revision, type, data, createdAt] = row;
  return { id, type, data: JSON.parse(data) as unknown, stream, revision, position, createdAt };
}
