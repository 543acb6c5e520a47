/**
 * PostgreSQL for the tests: the server on 127.0.0.1:5432 (trust auth, database `test`, user
 * postgres; `.ci/run` installs and starts it when missing), or POSTGRES_TEST_URL. Each fixture
 * gets a schema of its own and drops it afterwards, so runs never see each other's events.
 *
 * An unreachable server is a failure with a message that says what to do, never a skip: the
 * PostgreSQL adapter is only as tested as this server is there.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_TEST_URL = process.env.POSTGRES_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema name for one fixture (schema names are spliced into SQL, so plain ones only). */
export function freshSchemaName(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** The EVENT_STORE URL of `schema` on the test server. */
export function postgresUrl(schema: string): string {
  const url = new URL(POSTGRES_TEST_URL);
  url.searchParams.set('schema', schema);
  return url.toString();
}

/** Runs `sql` on its own short-lived connection to the test server; throws a clear error when the server is not there. */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ connectionString: POSTGRES_TEST_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined); // a dropped connection surfaces through the query's rejection
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${POSTGRES_TEST_URL} (${(error as Error).message}). ` +
        'The PostgreSQL tests need it: `npm test` installs and starts it when missing (its pretest, scripts/ensureTools.ts), or start it yourself (`pg_ctlcluster 15 main start`), or set POSTGRES_TEST_URL.',
    );
  }
  try {
    return await client.query<R>(sql, values);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Fails (does not skip) when the server is not there; call it in beforeAll. */
export async function assertPostgresReachable(): Promise<void> {
  await adminQuery('SELECT 1');
}

/** Drops a schema made for a test, with everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
