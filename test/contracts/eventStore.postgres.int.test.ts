/**
 * The event-store contract and the DeletesOldEvents contract on PostgreSQL (127.0.0.1:5432, see
 * test/support/postgres.ts), each fixture in a schema of its own, dropped afterwards; then what
 * only a store shared over the network has to show: a transaction that commits late is not
 * skipped by a follower, and a lost NOTIFY loses nothing.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore, StoredEvent } from '../../src/eventStore/eventStore.js';
import { createPostgresEventStore, poolName } from '../../src/eventStore/postgresEventStore.js';
import { listenerName } from '../../src/eventStore/postgresListener.js';
import { notifyChannel } from '../../src/eventStore/postgresSchema.js';
import { POSTGRES_TEST_URL, adminQuery, assertPostgresReachable, dropSchema, freshSchemaName, postgresUrl } from '../support/postgres.js';
import { deletesOldEventsContract } from './deletesOldEvents.contract.js';
import { eventStoreContract, until } from './eventStore.contract.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const appenderScript = fileURLToPath(new URL('../support/postgresAppender.ts', import.meta.url));
// Short poll so the polling paths are quick to see; NOTIFY wakes the live path at once anyway.
const pollIntervalMs = 50;

beforeAll(assertPostgresReachable);

const freshSchema = async () => {
  const schema = freshSchemaName();
  const url = postgresUrl(schema);
  return {
    store: createPostgresEventStore({ url, pollIntervalMs }),
    reopen: async () => createPostgresEventStore({ url, pollIntervalMs }),
    cleanup: () => dropSchema(schema),
  };
};
eventStoreContract('postgres', freshSchema, { persistent: true, retention: ['deletesOldEvents'] });
deletesOldEventsContract('postgres', freshSchema);

describe('PostgreSQL event store shared between connections', () => {
  let schema: string;
  const stores: EventStore[] = [];
  const clients: pg.Client[] = [];

  function open(options: { pollIntervalMs?: number } = { pollIntervalMs }): EventStore {
    const store = createPostgresEventStore({ url: postgresUrl(schema), ...options });
    stores.push(store);
    return store;
  }

  async function rawClient(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: POSTGRES_TEST_URL });
    clients.push(client);
    await client.connect();
    return client;
  }

  afterEach(async () => {
    for (const client of clients.splice(0)) await client.end().catch(() => undefined);
    for (const store of stores.splice(0)) await store.close();
    await dropSchema(schema);
  });

  it('does not let a follower skip a position whose transaction commits after a later append', async () => {
    schema = freshSchemaName();
    const store = open();
    await store.append('room-first', [{ id: 'first', type: 'MessagePosted', data: {} }], { expectedRevision: 0 });
    const received: StoredEvent[] = [];
    const subscription = store.subscribeToAll({ afterPosition: 0, onEvent: (e) => void received.push(e) });
    await until(() => received.length === 1);

    // A writer takes the next position in a transaction it keeps open (a slow node, a long fsync)…
    const slow = await rawClient();
    await slow.query('BEGIN');
    const { rows } = await slow.query<{ out_position: string }>(
      `SELECT * FROM "${schema}".append_events('room-slow', 0, ARRAY['slow'], ARRAY['MessagePosted'], ARRAY['{}'], ARRAY[NULL]::bigint[], 0)`,
    );
    const slowPosition = Number(rows[0]!.out_position);
    // …while another append, to another room, starts after it. Had it taken the next position and
    // committed first, the follower would move past `slowPosition` before that commits, for good.
    let fastDone = false;
    const fast = store.append('room-fast', [{ id: 'fast', type: 'MessagePosted', data: {} }], { expectedRevision: 0 }).finally(() => (fastDone = true));
    await delay(300);
    expect(fastDone, 'the later append waits for the earlier transaction').toBe(false);
    expect(received.map((e) => e.id)).toEqual(['first']);

    await slow.query('COMMIT');
    const fastResult = await fast;
    expect(fastResult.position).toBeGreaterThan(slowPosition);
    await until(() => received.length === 3);
    expect(received.map((e) => e.id)).toEqual(['first', 'slow', 'fast']);
    expect(received).toEqual(await store.readAll());
    await subscription.close();
  });

  it("wakes another node's subscription by NOTIFY, without waiting for the poll", async () => {
    schema = freshSchemaName();
    const writer = open();
    const reader = open({ pollIntervalMs: 60_000 }); // only a notification can deliver in time
    await writer.headPosition(); // creates the schema
    const received: StoredEvent[] = [];
    const subscription = reader.subscribeToAll({ afterPosition: 0, onEvent: (e) => void received.push(e) });
    await eventually(async () => (await listenerPids(schema)).length === 1, 5000);
    await writer.append('room-a', [{ id: 'a1', type: 'MessagePosted', data: {} }], { expectedRevision: 0 });
    await until(() => received.length === 1, 2000);
    await subscription.close();
  });

  it('loses nothing when a notification is missed: the poll finds the event, and the listener comes back', async () => {
    schema = freshSchemaName();
    const writer = open();
    const reader = open({ pollIntervalMs: 500 });
    await writer.headPosition();
    const received: StoredEvent[] = [];
    const subscription = reader.subscribeToAll({ afterPosition: 0, onEvent: (e) => void received.push(e) });
    await eventually(async () => (await listenerPids(schema)).length === 1, 5000);
    await delay(100); // the subscription has read the empty log and sleeps

    // The reader's LISTEN connection is cut (a network blip, a server restart) while the writer
    // appends: its NOTIFY reaches nobody.
    const [pid] = await listenerPids(schema);
    await adminQuery('SELECT pg_terminate_backend($1)', [pid]);
    await writer.append('room-a', [{ id: 'a1', type: 'MessagePosted', data: {} }], { expectedRevision: 0 });
    await until(() => received.length === 1, 3000);

    // And the listener reconnects by itself, so later appends wake the reader again.
    await eventually(async () => {
      const pids = await listenerPids(schema);
      return pids.length === 1 && pids[0] !== pid;
    }, 5000);
    await writer.append('room-a', [{ id: 'a2', type: 'MessagePosted', data: {} }], { expectedRevision: 1 });
    await until(() => received.length === 2, 3000);
    expect(received.map((e) => e.id)).toEqual(['a1', 'a2']);
    await subscription.close();
  });

  it('goes on after the server drops every connection of the store: appends reconnect, a subscription resumes where it was', async () => {
    schema = freshSchemaName();
    const store = open({ pollIntervalMs: 100 });
    const writer = open();
    await store.append('room-a', [{ id: 'a1', type: 'MessagePosted', data: {} }], { expectedRevision: 0 });
    const received: StoredEvent[] = [];
    const subscription = store.subscribeToAll({ afterPosition: 0, onEvent: (e) => void received.push(e) });
    await until(() => received.length === 1);

    // What a server restart or a failover does to the clients: every backend of both stores ends.
    const { rows } = await adminQuery<{ ended: boolean }>(
      'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = ANY ($1)',
      [[poolName(schema), listenerName(notifyChannel(schema))]],
    );
    expect(rows.length).toBeGreaterThanOrEqual(2);
    await delay(100);

    await writer.append('room-a', [{ id: 'a2', type: 'MessagePosted', data: {} }], { expectedRevision: 1 });
    await store.append('room-a', [{ id: 'a3', type: 'MessagePosted', data: {} }], { expectedRevision: 2 });
    await until(() => received.length === 3, 5000);
    expect(received.map((e) => e.id)).toEqual(['a1', 'a2', 'a3']);
    await subscription.close();
  });

  it('keeps revisions gap-free and positions in commit order under concurrent appenders on many connections', async () => {
    schema = freshSchemaName();
    const reader = open();
    await reader.headPosition();
    const received: StoredEvent[] = [];
    const subscription = reader.subscribeToAll({ afterPosition: 0, onEvent: (e) => void received.push(e) });
    const writers = [open(), open(), open()];
    // Each writer appends to a shared room (retrying on a lost race) and to a room of its own.
    await Promise.all(
      writers.map(async (writer, w) => {
        for (let i = 1; i <= 40; i++) {
          await writer.append(`room-own-${w}`, [{ id: `own-${w}-${i}`, type: 'MessagePosted', data: { i } }], { expectedRevision: i - 1 });
          for (;;) {
            const revision = await writer.streamRevision('room-shared');
            const ok = await writer
              .append('room-shared', [{ id: `shared-${w}-${i}`, type: 'MessagePosted', data: { i } }], { expectedRevision: revision })
              .then(() => true, () => false);
            if (ok) break;
          }
        }
      }),
    );
    const shared = await reader.readStream('room-shared');
    expect(shared.map((e) => e.revision)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    await until(() => received.length === 240, 10_000);
    const all = await reader.readAll();
    expect(received).toEqual(all);
    expect(all.every((e, i) => i === 0 || e.position > all[i - 1]!.position)).toBe(true);
    await subscription.close();
  });

  it('keeps every acknowledged append when the writer is killed with SIGKILL, and the next writer is not held up', async () => {
    schema = freshSchemaName();
    const child = spawn(process.execPath, ['--import', 'tsx', appenderScript, postgresUrl(schema), 'room-durable', '100000', 'd'], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = once(child, 'close');
    const acknowledged: number[] = [];
    let partial = '';
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? ''; // an unfinished line is not an acknowledgement yet
      for (const line of lines) {
        if (line === 'ready') markReady();
        else acknowledged.push(Number(line));
      }
    });
    try {
      await Promise.race([ready, exited.then(() => Promise.reject(new Error('the appender exited before it was ready')))]);
      child.stdin.end('go\n');
      await until(() => acknowledged.length >= 150, 20_000);
      child.kill('SIGKILL');
      await exited;
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const acked = [...acknowledged];
    expect(acked).toEqual(Array.from({ length: acked.length }, (_, i) => i + 1));

    const reader = open();
    const stream = await reader.readStream('room-durable');
    // At most one more: an append can commit and be killed before printing its acknowledgement.
    expect(stream.length - acked.length).toBeGreaterThanOrEqual(0);
    expect(stream.length - acked.length).toBeLessThanOrEqual(1);
    expect(stream.map((e) => e.id)).toEqual(Array.from({ length: stream.length }, (_, i) => `d-${i + 1}`));
    // The killed writer's connection held the append lock for its last append at most: the next one goes through.
    const started = Date.now();
    await reader.append('room-durable', [{ id: 'after', type: 'MessagePosted', data: {} }], { expectedRevision: stream.length });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stores data as given and answers bigints as numbers', async () => {
    schema = freshSchemaName();
    const store = open();
    const data = { text: 'héllo \u0000 \u{1F600}', nested: { list: [1, 2.5, null, true] }, big: 2 ** 52 };
    const { events } = await store.append('room-a', [{ id: 'x', type: 'MessagePosted', data, createdAt: 1_700_000_000_123 }], { expectedRevision: 0 });
    const [read] = await store.readStream('room-a');
    expect(read).toEqual(events[0]);
    expect(read).toMatchObject({ data, createdAt: 1_700_000_000_123, revision: 1 });
    expect(typeof read!.position).toBe('number');
  });

  it('refuses a schema name it could not quote safely', () => {
    expect(() => createPostgresEventStore({ url: `${POSTGRES_TEST_URL}?schema=a";drop` })).toThrow(/schema must be/);
    schema = freshSchemaName(); // nothing made; afterEach drops nothing
  });
});

/** Like `until`, for a condition that has to ask the server. */
async function eventually(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await delay(20);
  }
}

/** Backends of this schema's LISTEN connections. */
async function listenerPids(schema: string): Promise<number[]> {
  const { rows } = await adminQuery<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [listenerName(notifyChannel(schema))]);
  return rows.map((row) => row.pid);
}

describe('PostgreSQL event store under a role of least privilege', () => {
  it('starts on a schema made for it by an administrator, without the right to create schemas or replace functions', async () => {
    const schema = freshSchemaName();
    const role = `rl_${schema}`;
    const admin = createPostgresEventStore({ url: postgresUrl(schema), pollIntervalMs });
    await admin.append('room-a', [{ id: 'a1', type: 'MessagePosted', data: {} }], { expectedRevision: 0 });
    await admin.close();
    await adminQuery(`CREATE ROLE ${role} LOGIN`);
    let limited: EventStore | undefined;
    try {
      for (const grant of [
        `GRANT USAGE ON SCHEMA "${schema}" TO ${role}`,
        `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${schema}" TO ${role}`,
        `GRANT USAGE ON ALL SEQUENCES IN SCHEMA "${schema}" TO ${role}`,
        `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA "${schema}" TO ${role}`,
      ])
        await adminQuery(grant);
      const url = new URL(postgresUrl(schema));
      url.username = role;
      // What it may not do: create a schema (so CREATE SCHEMA IF NOT EXISTS would fail).
      const probe = new pg.Client({ connectionString: url.toString().replace(/\?.*$/, '') });
      await probe.connect();
      await expect(probe.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)).rejects.toThrow(/permission denied/);
      await probe.end();

      limited = createPostgresEventStore({ url: url.toString(), pollIntervalMs });
      await limited.append('room-a', [{ id: 'a2', type: 'MessagePosted', data: {} }], { expectedRevision: 1 });
      expect((await limited.readStream('room-a')).map((e) => e.id)).toEqual(['a1', 'a2']);
    } finally {
      await limited?.close();
      await adminQuery(`DROP OWNED BY ${role}`);
      await adminQuery(`DROP ROLE ${role}`);
      await dropSchema(schema);
    }
  });
});
