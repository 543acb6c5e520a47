import { createHash } from 'node:crypto';
import type pg from 'pg';

/*
 * The PostgreSQL event store's tables, its append function and the migration that creates them,
 * in one place. Why appends take one lock for the whole store is explained at
 * createPostgresEventStore in postgresEventStore.ts.
 *
 * The design follows Emmett's PostgreSQL event store: a `streams` table with each stream's
 * revision (the optimistic check reads and moves it), an `events` table whose `position` comes
 * from a sequence (bigserial), and the append as one server-side function, so an append is one
 * round trip and the lock it takes is held for as short as it can be.
 */

/** Where the store lives: a connection string for `pg` and the schema holding its tables. */
export interface PostgresLocation {
  connectionString: string;
  schema: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
export const DEFAULT_SCHEMA = 'roomlog';

/**
 * Splits `postgres://user@host:5432/db?schema=name` into what `pg` connects with and the schema
 * (default `roomlog`). The schema is spliced into SQL as an identifier, so only plain lower-case
 * names are accepted.
 */
export function parsePostgresUrl(url: string): PostgresLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('EVENT_STORE: not a valid postgres:// URL');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') throw new Error('EVENT_STORE: expected a postgres:// URL');
  const schema = parsed.searchParams.get('schema') ?? DEFAULT_SCHEMA;
  if (!SCHEMA_NAME.test(schema)) throw new Error(`EVENT_STORE: schema must be lower-case letters, digits and _ (got ${JSON.stringify(schema)})`);
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema };
}

export function isPostgresUrl(value: string): boolean {
  return value.startsWith('postgres://') || value.startsWith('postgresql://');
}

/** A stable bigint key for an advisory lock, per schema, so stores in different schemas never wait for each other. */
function lockKey(purpose: string, schema: string): string {
  return createHash('sha256').update(`roomlog:${purpose}:${schema}`).digest().readBigInt64BE(0).toString();
}

/** The NOTIFY channel appends in this schema signal on (a wake-up only: the table is the truth). */
export function notifyChannel(schema: string): string {
  return `roomlog_events_${schema}`;
}

/** SQLSTATEs the append function raises; the adapter turns them into the port's errors. */
export const WRONG_REVISION = 'RLW01';
export const DUPLICATE_ID = 'RLD01';

function migrationSql(schema: string): string {
  const s = `"${schema}"`;
  return `
    CREATE SCHEMA IF NOT EXISTS ${s};
    CREATE TABLE IF NOT EXISTS ${s}.streams (
      stream   text   PRIMARY KEY,
      revision bigint NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ${s}.events (
      position   bigserial PRIMARY KEY,
      id         text   NOT NULL UNIQUE,
      stream     text   NOT NULL,
      revision   bigint NOT NULL,
      type       text   NOT NULL,
      data       json   NOT NULL,
      created_at bigint NOT NULL,
      UNIQUE (stream, revision)
    );
    -- One append: checks ids, then the expected revision (-1 = any), then stores the events at
    -- the next revisions and positions, all under the store's append lock (see postgresEventStore.ts).
    CREATE OR REPLACE FUNCTION ${s}.append_events(
      p_stream text, p_expected bigint, p_ids text[], p_types text[], p_data text[], p_created bigint[], p_now bigint
    ) RETURNS TABLE (out_position bigint, out_revision bigint, out_created_at bigint)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_actual bigint;
      v_duplicate text;
    BEGIN
      PERFORM pg_advisory_xact_lock(${lockKey('append', schema)});
      -- Ids before revision: a resend of an append that already succeeded carries a now-stale
      -- expectation, and must still be told it is a duplicate so the caller sees it as done.
      SELECT e.id INTO v_duplicate FROM ${s}.events e WHERE e.id = ANY (p_ids) LIMIT 1;
      IF v_duplicate IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '${DUPLICATE_ID}', MESSAGE = v_duplicate;
      END IF;
      SELECT st.revision INTO v_actual FROM ${s}.streams st WHERE st.stream = p_stream;
      v_actual := coalesce(v_actual, 0);
      IF p_expected >= 0 AND p_expected <> v_actual THEN
        RAISE EXCEPTION USING ERRCODE = '${WRONG_REVISION}', MESSAGE = v_actual::text;
      END IF;
      INSERT INTO ${s}.streams AS st (stream, revision) VALUES (p_stream, v_actual + cardinality(p_ids))
        ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision;
      PERFORM pg_notify('${notifyChannel(schema)}', '');
      RETURN QUERY
        INSERT INTO ${s}.events (id, stream, revision, type, data, created_at)
          SELECT t.id, p_stream, v_actual + t.ord, t.type, t.data::json, coalesce(t.created, p_now)
            FROM unnest(p_ids, p_types, p_data, p_created) WITH ORDINALITY AS t (id, type, data, created, ord)
            ORDER BY t.ord
        RETURNING position, revision, created_at;
    END
    $fn$;
  `;
}

/**
 * What the schema's comment says once this code's tables and function are in it: named by a hash
 * of the migration itself, so any change to it makes the next start migrate again.
 */
const LAYOUT = `roomlog event store ${createHash('sha256').update(migrationSql('schema')).digest('hex').slice(0, 16)}`;

/**
 * Creates the schema, tables and function if they are missing (idempotent). Under an advisory
 * lock: nodes starting together would otherwise race on CREATE … IF NOT EXISTS, which PostgreSQL
 * does not make safe between concurrent sessions (a unique violation in its catalogs).
 */
export async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  // A schema this layout made already needs nothing: a role that may use it but not create
  // schemas or replace functions (least privilege, the schema made for it by an administrator
  // with this code's layout) starts without trying. CREATE … IF NOT EXISTS is not enough for that:
  // PostgreSQL checks the right to create before it checks what exists.
  const { rows } = await pool.query<{ layout: string | null }>("SELECT obj_description(to_regnamespace($1), 'pg_namespace') AS layout", [schema]);
  if (rows[0]?.layout === LAYOUT) return;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(${lockKey('migrate', schema)})`);
    await client.query(migrationSql(schema));
    await client.query(`COMMENT ON SCHEMA "${schema}" IS '${LAYOUT}'`);
    await client.query('COMMIT');
    client.release();
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(true);
    throw error;
  }
}

// Every read selects the columns in this order (toStoredEvent below).
export const COLUMNS = 'position, id, stream, revision, type, data, created_at';

export interface EventRow {
  position: number;
  id: string;
  stream: string;
  revision: number;
  type: string;
  data: unknown;
  created_at: number;
}
