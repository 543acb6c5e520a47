/**
 * The SQLite store's reads never bind their LIMIT (src/eventStore/sqliteSchema.ts, byLimit): SQLite
 * compiles a statement again each time a LIMIT parameter is bound, which made every read of a
 * room's tail pay a full parse and plan.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { byLimit, prepareStatements } from '../../src/eventStore/sqliteSchema.js';

const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function database(): Database.Database {
  const db = new Database(':memory:');
  open.push(db);
  db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY)');
  db.exec('INSERT INTO t (n) VALUES (1), (2), (3), (4), (5)');
  return db;
}

describe('byLimit', () => {
  it('no statement the store prepares has a LIMIT parameter', () => {
    const db = new Database(':memory:');
    open.push(db);
    db.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, stream TEXT NOT NULL, revision INTEGER NOT NULL,
      type TEXT NOT NULL, data TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE (stream, revision)) STRICT`);
    const sql = prepareStatements(db);
    const sources = [
      ...Object.values(sql).flatMap((s) => ('source' in s ? [s.source] : [])),
      ...[sql.selectForwards, sql.selectBackwards, sql.selectAfter].flatMap((of) => [of(-1).source, of(10).source]),
    ];
    expect(sources.length).toBeGreaterThan(8);
    for (const source of sources) expect(source).not.toMatch(/LIMIT\s*[?@:$]/i);
  });

  it('writes the limit into the statement, and none for a negative or infinite one', () => {
    const read = byLimit<[]>(database(), 'SELECT n FROM t ORDER BY n');
    expect(read(2).source).toBe('SELECT n FROM t ORDER BY n LIMIT 2');
    expect(read(2).all()).toEqual([[1], [2]]);
    expect(read(0).all()).toEqual([]);
    expect(read(-1).source).toBe('SELECT n FROM t ORDER BY n');
    expect(read(Infinity).all()).toHaveLength(5);
  });

  it('prepares each limit once, keeps the 32 used most recently, and refuses a limit that is not a whole number', () => {
    const read = byLimit<[]>(database(), 'SELECT n FROM t');
    const first = read(1);
    const busy = read(1000);
    expect(read(1)).toBe(first);
    for (let limit = 2; limit <= 40; limit++) {
      read(limit);
      // A page size every read uses stays, however many other limits come and go.
      expect(read(1000)).toBe(busy);
    }
    expect(read(40)).toBe(read(40));
    // The least recently used went to make room: asked again, it is prepared anew.
    expect(read(1)).not.toBe(first);
    expect(() => read(1.5)).toThrow(RangeError);
    expect(() => read(Number.NaN)).toThrow(RangeError);
  });
});
