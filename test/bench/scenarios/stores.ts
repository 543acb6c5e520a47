/**
 * 14. The event stores side by side: PostgreSQL (127.0.0.1:5432, a schema of its own, dropped
 * afterwards) in the `roomlog` column, SQLite (a DATA_DIR file) in the baseline column, in the
 * same run:
 *   - sendMessage throughput over WebSocket at 1, 10 and 100 senders (one node, no Redis);
 *   - rebuild: the CLI's `rebuild` of every read model from a seeded log (events/s it reports);
 *   - replay at start: a node started on that log, spawn → listening (it folds the whole log
 *     into its in-memory read models before it listens).
 * `npm run bench -- --only stores` (POSTGRES_BENCH_URL overrides the server).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { EventStore } from '../../../src/eventStore/eventStore.js';
import { createPostgresEventStore } from '../../../src/eventStore/postgresEventStore.js';
import { createSqliteEventStore } from '../../../src/eventStore/sqliteEventStore.js';
import { seedLog } from '../../support/seedLog.js';
import type { ThroughputRequest, ThroughputResult } from '../load/protocol.js';
import { startLoadClient } from '../loadProcess.js';
import { startServer } from '../serverProcess.js';
import { ackLatencyRow, fmt, ratio, type Row } from '../table.js';
import { troubleLines, withCpu, type ScenarioContext } from './context.js';

const run = promisify(execFile);
const POSTGRES = process.env.POSTGRES_BENCH_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

type StoreName = 'postgres' | 'sqlite';
interface Measured {
  sends: Map<number, ThroughputResult>;
  rebuild?: { events: number; rate: number };
  replay?: { events: number; startupMs: number };
}

/** Where one step keeps its events: EVENT_STORE and a DATA_DIR, plus how to open and remove them. */
interface Place {
  env: Record<string, string>;
  dataDir: string;
  open(): EventStore;
  drop(): Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function place(ctx: ScenarioContext, store: StoreName, label: string): Place {
  const dataDir = ctx.tmpDir(`stores-${label}-${store}`);
  if (store === 'sqlite') {
    return { env: { EVENT_STORE: 'sqlite' }, dataDir, open: () => createSqliteEventStore({ file: join(dataDir, 'events.sqlite') }), drop: async () => {} };
  }
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const url = new URL(POSTGRES);
  url.searchParams.set('schema', schema);
  return {
    env: { EVENT_STORE: url.toString() },
    dataDir,
    open: () => createPostgresEventStore({ url: url.toString() }),
    drop: () => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`),
  };
}

/**
 * Both stores' nodes run side by side and the levels alternate (PostgreSQL, then SQLite, at each
 * number of senders), so a busy spell of the machine falls on both rather than on one.
 */
async function measureSends(ctx: ScenarioContext, measured: Record<StoreName, Measured>): Promise<void> {
  const stores = ['postgres', 'sqlite'] as const;
  const places = stores.map((store) => place(ctx, store, 'sends'));
  const servers: Array<Awaited<ReturnType<typeof startServer>>> = [];
  const load = startLoadClient();
  try {
    for (const where of places) servers.push(await startServer('roomlog', { dataDir: where.dataDir, env: { ...where.env, RATE_LIMIT_MESSAGES: '0' }, serverRoot: ctx.cfg.serverRoot }));
    for (const senders of ctx.cfg.senders) {
      for (const [i, store] of stores.entries()) {
        const server = servers[i]!;
        const req: ThroughputRequest = { cmd: 'throughput', url: server.url, senders, rooms: 1, durationMs: ctx.cfg.throughputMs, maxMessages: ctx.cfg.throughputMaxMessages };
        const r = await withCpu(ctx, `stores / ${store} / ${senders} senders`, server, load, () => load.call<ThroughputResult>(req, ctx.cfg.throughputMs + 120_000));
        measured[store].sends.set(senders, r);
        ctx.log(`stores: ${store} ${senders} senders: ${fmt(r.perSecond)} sends/s, p50 ${fmt(r.latency.p50, 2)} ms, p99 ${fmt(r.latency.p99, 2)} ms, ${r.errors} errors`);
        if (r.errors) ctx.notes.push(`stores / ${store} / ${senders} senders: ${r.errors} failed sends; first: ${r.firstError}`);
        if (r.duplicateSeqs) ctx.notes.push(`stores / ${store} / ${senders} senders: ${r.duplicateSeqs} duplicate seqs (sequence guarantee broken)`);
      }
    }
    for (const [i, server] of servers.entries()) for (const line of troubleLines(server)) ctx.notes.push(`stores / ${stores[i]} server log: ${line}`);
  } finally {
    await load.stop();
    for (const server of servers) await server.stop();
    for (const where of places) await where.drop();
  }
}

async function measureRebuildAndReplay(ctx: ScenarioContext, store: StoreName, events: number, into: Measured): Promise<void> {
  const where = place(ctx, store, 'log');
  try {
    const seeding = where.open();
    const seeded = performance.now();
    try {
      await seedLog(seeding, { events, rooms: 200, batch: 500 });
    } finally {
      await seeding.close();
    }
    ctx.log(`stores: seeded ${fmt(events)} events into ${store} in ${fmt(performance.now() - seeded)} ms`);

    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'rebuild', '--event-store', where.env.EVENT_STORE!, '--data-dir', where.dataDir], {
      cwd: ctx.cfg.serverRoot,
      env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const match = stdout.match(/from (\d+) events in ([\d.]+) s: (\d+) events\/s/);
    if (match) into.rebuild = { events: Number(match[1]), rate: Number(match[3]) };
    else ctx.notes.push(`stores / ${store}: rebuild printed no result line: ${stdout.slice(-300)}`);

    const server = await startServer('roomlog', { dataDir: where.dataDir, env: where.env, serverRoot: ctx.cfg.serverRoot, timeoutMs: 300_000 });
    into.replay = { events, startupMs: server.startupMs };
    ctx.log(`stores: ${store} node on ${fmt(events)} events: spawn → listening ${fmt(server.startupMs)} ms`);
    await server.stop();
  } finally {
    await where.drop();
  }
}

export async function storesScenario(ctx: ScenarioContext): Promise<Row[]> {
  if (!ctx.cfg.kinds.includes('roomlog')) return [];
  const events = ctx.cfg.quick ? 20_000 : 200_000;
  const measured: Record<StoreName, Measured> = { postgres: { sends: new Map() }, sqlite: { sends: new Map() } };
  try {
    await measureSends(ctx, measured);
  } catch (e) {
    ctx.notes.push(`stores / sends: FAILED: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const store of ['postgres', 'sqlite'] as const) {
    try {
      await measureRebuildAndReplay(ctx, store, events, measured[store]);
    } catch (e) {
      ctx.notes.push(`stores / ${store}: FAILED: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  ctx.notes.push(
    `stores: PostgreSQL (${new URL(POSTGRES).host}, appends commit one at a time under the store's lock, synchronous_commit on) in the roomlog column, SQLite (WAL, synchronous=FULL) in the baseline column, same machine, same run; one node per store without Redis, both running, levels alternating between them, all senders in one room, ${ctx.cfg.throughputMs / 1000} s per level; the PostgreSQL server's own CPU counts as other processes; rebuild and replay over ${fmt(events)} seeded events in 200 rooms.`,
  );

  const rows: Row[] = [];
  const { postgres: p, sqlite: s } = measured;
  for (const senders of ctx.cfg.senders) {
    const a = p.sends.get(senders);
    const b = s.sends.get(senders);
    const scenario = `14. PostgreSQL vs SQLite: sendMessage, ${senders} sender${senders === 1 ? '' : 's'}`;
    rows.push({ scenario, metric: 'sends/s (acked)', roomlog: fmt(a?.perSecond), bare: fmt(b?.perSecond), ratio: ratio(a?.perSecond, b?.perSecond), target: '', result: '' });
    rows.push(ackLatencyRow(scenario, a, b));
  }
  rows.push({
    scenario: `14. PostgreSQL vs SQLite: rebuild ${fmt(events)} events (CLI)`,
    metric: 'events/s',
    roomlog: fmt(p.rebuild?.rate),
    bare: fmt(s.rebuild?.rate),
    ratio: ratio(p.rebuild?.rate, s.rebuild?.rate),
    target: '',
    result: '',
  });
  const replayRate = (m: Measured) => (m.replay ? (m.replay.events * 1000) / m.replay.startupMs : undefined);
  rows.push({
    scenario: `14. PostgreSQL vs SQLite: replay ${fmt(events)} events at start`,
    metric: 'events/s, spawn → listening',
    roomlog: fmt(replayRate(p)),
    bare: fmt(replayRate(s)),
    ratio: ratio(replayRate(p), replayRate(s)),
    target: '',
    result: '',
  });
  return rows;
}
