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
    // LIMIT -1 means no limit in SQLite, so one statement serves both cases.
    selectForwards: db
      .prepare<[string, number, number], Row>(
        `SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
      )
      .raw(),
    selectBackwards: db
      .prepare<[string, number, number], Row>(
        `SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
      )
      .raw(),
    selectAfter: db
      .prepare<[number, number], Row>(`SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`)
      .raw(),
    scanForRetention: db.prepare<[{ since: number; prefix: string }], RetentionScanEntry>(
      `SELECT stream, max(revision) AS head, min(CASE WHEN created_at >= @since THEN revision END) AS firstSince
         FROM events WHERE substr(stream, 1, length(@prefix)) = @prefix GROUP BY stream`,
    ),
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
