import pg from 'pg';
import { UNREACHABLE_SERVER_CODES } from '../../common/socketErrors.js';
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
import { listenForAppends, type PostgresListener } from './postgresListener.js';
import { COLUMNS, DUPLICATE_ID, WRONG_REVISION, migrate, notifyChannel, parsePostgresUrl, type EventRow } from './postgresSchema.js';
import type { DeletesOldEvents, RetentionScanEntry } from './retentionCapabilities.js';

export interface PostgresEventStoreOptions {
  /** `postgres://user@host:5432/db`, optionally `?schema=name` (default `roomlog`). */
  url: string;
  /** How often a live subscription reads the table when no notification woke it. */
  pollIntervalMs?: number;
  /** Connections in the pool (appends and reads; the LISTEN connection is extra). */
  poolSize?: number;
  /** Errors of idle or listening connections (they reconnect by themselves). */
  onError?: (error: unknown) => void;
}

const DEFAULT_POLL_INTERVAL_MS = 1000;
const DEFAULT_POOL_SIZE = 10;
const SUBSCRIPTION_PAGE_SIZE = 1000;
const CONNECT_TIMEOUT_MS = 10_000;
const READ_RETRY_MIN_MS = 50;
const READ_RETRY_MAX_MS = 1000;

// bigint (int8) comes back as a string by default; every bigint here (positions, revisions,
// milliseconds) is far below 2^53, so numbers are exact.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

interface PostgresStore {
  pool: pg.Pool;
  schema: string;
  /** The migration, run once on first use; forgotten if it failed so the next call tries again. */
  ready: Promise<void> | null;
  connectionString: string;
  pollIntervalMs: number;
  onError?: (error: unknown) => void;
  listener: PostgresListener | null;
  wakers: Set<() => void>;
  subscriptions: Set<AllSubscription>;
  closed: boolean;
}

/**
 * The event store on PostgreSQL (`pg`), safe to share between any number of nodes.
 *
 * - One stream per room: `streams` holds each stream's revision, `events` the events with their
 *   revision (the room's seq) and a global `position` from a sequence.
 * - The pitfall of a sequence: positions are handed out when a transaction inserts, but
 *   transactions commit in any order, so a reader can see position 11 committed while 10 is still
 *   in flight; a follower that then moves past 11 never delivers 10. Emmett answers
 *   with a transaction-id filter (read only rows with `transaction_id <
 *   pg_snapshot_xmin(pg_current_snapshot())`, ordered by transaction id, then position). That is
 *   exact only while transaction ids are assigned in the same order as positions: a transaction
 *   that got its id first but its position later (it wrote something else first) is delivered
 *   before one with a smaller position that is still running, and a follower that keeps one
 *   position as its checkpoint then skips or repeats. It also ties every follower to the oldest
 *   transaction running anywhere on the server (transaction ids are server-wide): one unrelated
 *   long transaction stalls live delivery. Our port promises delivery in position order and a
 *   single position as the checkpoint, so we take the guarantee SQLite gives: the
 *   append function takes one transaction-scoped advisory lock per store before it checks and inserts, held until
 *   its commit is visible, so appends commit one at a time, in position order, and "every event
 *   after the last position delivered" never skips a slow writer. The price is one commit at a
 *   time for the whole store: an append is one round trip (a server-side function) so the lock
 *   is held for the function and the commit's fsync only. The test of a late-committing
 *   transaction is in test/contracts/eventStore.postgres.int.test.ts.
 * - Durability: each append commits with `synchronous_commit = on` set on the connection
 *   (whatever the server's default), so the commit is flushed before `append` resolves.
 * - Following: LISTEN/NOTIFY wakes subscriptions in every node at once; they read the table, and
 *   poll it, so a lost notification (a dropped LISTEN connection) delays but loses nothing.
 * - The schema is created on first use, idempotently (postgresSchema.ts).
 */
export function createPostgresEventStore(options: PostgresEventStoreOptions): EventStore & DeletesOldEvents {
  const { connectionString, schema } = parsePostgresUrl(options.url);
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // Which store a connection serves, in pg_stat_activity (and for a test to cut them).
    application_name: poolName(schema),
    // Durable on resolve even if the server's default says otherwise.
    options: '-c synchronous_commit=on',
    types,
  });
  // An idle connection the server drops is an 'error' on the pool; unheard, it ends the process.
  pool.on('error', (error) => options.onError?.(error));
  const store: PostgresStore = {
    pool,
    schema,
    ready: null,
    connectionString,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    onError: options.onError,
    listener: null,
    wakers: new Set(),
    subscriptions: new Set(),
    closed: false,
  };
  const t = (table: 'events' | 'streams') => `"${schema}".${table}`;

  return {
    append: (stream, events, { expectedRevision }) => append(store, stream, events, expectedRevision),
    trimStream: async (stream, { beforeRevision, types: eventTypes }) => {
      const result = await query(
        store,
        `DELETE FROM ${t('events')} WHERE stream = $1 AND revision < $2 AND type = ANY ($3)
           AND revision < (SELECT revision FROM ${t('streams')} WHERE stream = $1)
           AND position < (SELECT max(position) FROM ${t('events')})`,
        [stream, beforeRevision, eventTypes],
      );
      return result.rowCount ?? 0;
    },
    retentionScan: async ({ prefix, since }) =>
      (
        await query<RetentionScanEntry>(
          store,
          `SELECT stream, max(revision) AS head, min(revision) FILTER (WHERE created_at >= $2) AS "firstSince"
             FROM ${t('events')} WHERE starts_with(stream, $1) GROUP BY stream`,
          [prefix, since],
        )
      ).rows,
    readStream: (stream, readOptions) => readStream(store, stream, readOptions),
    streamRevision: async (stream) =>
      (await query<{ revision: number }>(store, `SELECT revision FROM ${t('streams')} WHERE stream = $1`, [stream])).rows[0]?.revision ?? 0,
    readAll: async ({ afterPosition = 0, limit } = {}) => readAfter(store, afterPosition, limit ?? null),
    headPosition: async () =>
      (await query<{ head: number }>(store, `SELECT coalesce(max(position), 0) AS head FROM ${t('events')}`)).rows[0]!.head,
    subscribeToAll: (subscribeOptions) => subscribeToAll(store, subscribeOptions),
    ping: () => ping(store),
    close: () => close(store),
  };
}

/** The pool connections' application_name. */
export function poolName(schema: string): string {
  return `roomlog ${schema}`.slice(0, 63);
}

function ensureSchema(store: PostgresStore): Promise<void> {
  if (store.closed) return Promise.reject(new Error('postgres event store is closed'));
  store.ready ??= migrate(store.pool, store.schema).catch((error: unknown) => {
    store.ready = null;
    throw error;
  });
  return store.ready;
}

async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(store: PostgresStore, text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
  try {
    await ensureSchema(store);
    return await store.pool.query<R>(text, values);
  } catch (error) {
    throw serverGone(error) ? new EventStoreUnavailableError(error) : error;
  }
}

/**
 * The server did not answer, as opposed to answering no: no connection (socket errors, a timeout,
 * pg's "Connection terminated"), SQLSTATE class 08 (connection exception), the server shutting
 * down or starting (57P01–57P03), or out of connections (53300).
 */
export function serverGone(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNREACHABLE_SERVER_CODES.has(code) || code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code))) return true;
  return typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Connection ended unexpectedly/i.test(message);
}

async function append(store: PostgresStore, stream: string, events: NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
  if (events.length === 0) throw new Error(`append to ${stream}: no events given`);
  const batchIds = new Set<string>();
  for (const event of events) {
    if (batchIds.has(event.id)) throw new DuplicateEventIdError(event.id);
    batchIds.add(event.id);
  }
  const datas = events.map((event) => JSON.stringify(event.data ?? null));
  let rows: Array<{ out_position: number; out_revision: number; out_created_at: number }>;
  try {
    // One statement, so one implicit transaction: the function's lock is released at its commit.
    ({ rows } = await query(store, `SELECT * FROM "${store.schema}".append_events($1, $2, $3, $4, $5, $6, $7)`, [
      stream,
      expectedRevision === 'any' ? -1 : expectedRevision,
      events.map((event) => event.id),
      events.map((event) => event.type),
      datas,
      events.map((event) => event.createdAt ?? null),
      Date.now(),
    ]));
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === DUPLICATE_ID) throw new DuplicateEventIdError(message);
    if (code === WRONG_REVISION) throw new WrongExpectedRevisionError(stream, expectedRevision, Number(message));
    throw error;
  }
  rows.sort((a, b) => a.out_revision - b.out_revision);
  const stored = rows.map((row, i): StoredEvent => {
    const event = events[i]!;
    return {
      id: event.id,
      type: event.type,
      data: JSON.parse(datas[i]!) as unknown,
      stream,
      revision: row.out_revision,
      position: row.out_position,
      createdAt: row.out_created_at,
    };
  });
  // The port promises positions in revision order within an append; the sequence hands them
  // out in the order the sorted insert produces rows, so this holds. Checked, not assumed: past
  // this point the events are committed, so a break would be reported loudly, not stored silently.
  for (let i = 1; i < stored.length; i++) {
    if (stored[i]!.position <= stored[i - 1]!.position) throw new Error(`append to ${stream}: positions out of revision order`);
  }
  for (const wake of store.wakers) wake();
  const last = stored[stored.length - 1]!;
  return { revision: last.revision, position: last.position, events: stored };
}

async function readStream(store: PostgresStore, stream: string, { direction = 'forwards', fromRevision, limit }: ReadStreamOptions = {}): Promise<StoredEvent[]> {
  const events = `"${store.schema}".events`;
  const result =
    direction === 'backwards'
      ? await query<EventRow>(
          store,
          `SELECT ${COLUMNS} FROM ${events} WHERE stream = $1 AND revision <= $2 ORDER BY revision DESC LIMIT $3`,
          [stream, fromRevision ?? Number.MAX_SAFE_INTEGER, limit ?? null],
        )
      : await query<EventRow>(store, `SELECT ${COLUMNS} FROM ${events} WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT $3`, [
          stream,
          fromRevision ?? 1,
          limit ?? null,
        ]);
  return result.rows.map(toStoredEvent);
}

/** `LIMIT NULL` is no limit in PostgreSQL, so one statement serves both cases. */
async function readAfter(store: PostgresStore, afterPosition: number, limit: number | null): Promise<StoredEvent[]> {
  const result = await query<EventRow>(
    store,
    `SELECT ${COLUMNS} FROM "${store.schema}".events WHERE position > $1 ORDER BY position LIMIT $2`,
    [afterPosition, limit],
  );
  return result.rows.map(toStoredEvent);
}

/**
 * A subscription's read: a lost connection or a restarting server is waited out (with backoff,
 * reported to onError) rather than ending the subscription, as the projector and every live
 * follower hang on it. The next read starts where delivery stopped, so nothing is skipped.
 */
async function readAfterRetrying(store: PostgresStore, afterPosition: number, limit: number): Promise<StoredEvent[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await readAfter(store, afterPosition, limit);
    } catch (error) {
      if (store.closed) throw error;
      store.onError?.(error);
      await sleep(Math.min(READ_RETRY_MIN_MS * 2 ** attempt, READ_RETRY_MAX_MS));
    }
  }
}

function subscribeToAll(store: PostgresStore, options: SubscribeToAllOptions): AllSubscription {
  if (store.closed) throw new Error('postgres event store is closed');
  // One LISTEN connection per store, opened with its first subscription: a NOTIFY from any node
  // wakes every subscription of this one. Appends commit in position order (see
  // createPostgresEventStore), so reading after the last delivered position never skips.
  store.listener ??= listenForAppends({
    connectionString: store.connectionString,
    channel: notifyChannel(store.schema),
    wake: () => {
      for (const wake of store.wakers) wake();
    },
    onError: store.onError,
  });
  const subscription = followLog({
    ...options,
    readAfter: (after, limit) => readAfterRetrying(store, after, limit),
    pageSize: SUBSCRIPTION_PAGE_SIZE,
    pollIntervalMs: store.pollIntervalMs,
    wakers: store.wakers,
    onClosed: (done) => store.subscriptions.delete(done),
  });
  store.subscriptions.add(subscription);
  return subscription;
}

async function ping(store: PostgresStore): Promise<boolean> {
  try {
    await query(store, 'SELECT 1');
    return true;
  } catch {
    return false;
  }
}

async function close(store: PostgresStore): Promise<void> {
  if (store.closed) return;
  store.closed = true;
  await Promise.all([...store.subscriptions].map((subscription) => subscription.close()));
  await store.listener?.close();
  await store.pool.end();
}

function toStoredEvent(row: EventRow): StoredEvent {
  return { id: row.id, type: row.type, data: row.data, stream: row.stream, revision: row.revision, position: row.position, createdAt: row.created_at };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
