/**
 * 8. Connections per node: 15,000 subscribed connections on ONE node (150 rooms × 100
 * subscribers), 1 message per second in every room (15,000 deliveries/s), beside the bare ws
 * server under the same load. Memory per connection (RSS before and after opening them), the
 * node's CPU idle (connections open, nothing sent) and loaded, delivery latency pooled over every
 * room, nothing lost.
 *
 * One process may hold at most 20,000 open files here, so the load is spread over several
 * load-client processes (each a share of the rooms, with their publishers and subscribers). Each
 * room's sends start at their own offset within the second, as independent rooms would.
 */
import { nodeConnections, Procs, withCpuOf } from '../cluster.js';
import type { OpenSubscribersResult, PublishResult } from '../load/protocol.js';
import { Histogram, sleep } from '../load/stats.js';
import { startLoadClient, type LoadClient } from '../loadProcess.js';
import { startServer, type ServerKind } from '../serverProcess.js';
import { fmt, ratio, verdict, type Row } from '../table.js';
import { serverEnv, troubleLines, type Scenario, type ScenarioContext } from './context.js';

const P99_TARGET_MS = 250;

interface Sizes {
  rooms: number;
  perRoom: number;
  loadProcesses: number;
  /** Sessions per load process, shared by its rooms' subscribers (each session follows every room of its process). */
  sessions: number;
  publishMs: number;
  idleMs: number;
  settleMs: number;
}

const sizesFor = (quick: boolean): Sizes =>
  quick
    ? { rooms: 30, perRoom: 100, loadProcesses: 2, sessions: 50, publishMs: 10_000, idleMs: 3_000, settleMs: 2_000 }
    : { rooms: 150, perRoom: 100, loadProcesses: 3, sessions: 100, publishMs: 30_000, idleMs: 10_000, settleMs: 5_000 };

interface ScaleRun {
  connections: number;
  live: number;
  failed: number;
  openMs: number;
  beforeKb: number;
  afterKb: number;
  reported?: number;
  idleCores: number;
  loadedCores: number;
  loadCores: number;
  published: number;
  delivered: number;
  expected: number;
  lost: number;
  broken: number;
  deliveriesPerSecond: number;
  latency: { p50: number; p99: number; max: number };
}

const roomKey = (room: number) => `scale-${room}`;

async function runScale(ctx: ScenarioContext, kind: ServerKind, sizes: Sizes): Promise<ScaleRun | undefined> {
  const label = `scale / ${kind}`;
  const procs = new Procs();
  try {
    const server = procs.add(await startServer(kind, { dataDir: ctx.tmpDir(`scale-${kind}`), env: serverEnv(ctx, kind), serverRoot: ctx.cfg.serverRoot, timeoutMs: 120_000 }));
    const loads: LoadClient[] = Array.from({ length: sizes.loadProcesses }, () => procs.add(startLoadClient()));
    const roomsOf = (p: number) => Array.from({ length: sizes.rooms }, (_, r) => r).filter((r) => r % sizes.loadProcesses === p);
    const url = server.url;
    ctx.log(`${label}: ${sizes.rooms} rooms, ${sizes.perRoom} subscribers each, over ${sizes.loadProcesses} load processes`);
    await Promise.all(
      loads.map(async (load, p) => {
        const [first, ...rest] = roomsOf(p);
        await load.call({ cmd: 'prepareRoom', key: roomKey(first!), url }, 60_000);
        await load.call({ cmd: 'createSessions', key: roomKey(first!), url, count: sizes.sessions }, 600_000);
        for (const room of rest) await load.call({ cmd: 'prepareRoom', key: roomKey(room), url, sessionsFrom: roomKey(first!) }, 60_000);
      }),
    );
    await sleep(sizes.settleMs);
    const beforeKb = server.rssKb();
    const opened = { connections: 0, live: 0, failed: 0, firstError: undefined as string | undefined };
    const t0 = performance.now();
    await Promise.all(
      loads.map(async (load, p) => {
        for (const room of roomsOf(p)) {
          const r = await load.call<OpenSubscribersResult>({ cmd: 'openSubscribers', key: roomKey(room), url, count: sizes.perRoom, liveTimeoutMs: 60_000 }, 600_000);
          opened.connections += r.opened;
          opened.live += r.live;
          opened.failed += r.failed;
          opened.firstError ??= r.firstError;
        }
      }),
    );
    const openMs = performance.now() - t0;
    ctx.log(`${label}: ${opened.connections} subscribers open, ${opened.live} live, ${opened.failed} failed in ${fmt(openMs / 1000, 1)} s`);
    if (opened.failed || opened.live < opened.connections) ctx.notes.push(`${label}: ${opened.failed} subscribers failed to open, ${opened.connections - opened.live} never saw a probe; first error: ${opened.firstError ?? '—'}`);
    await sleep(sizes.settleMs);
    const afterKb = server.rssKb();
    const reported = kind === 'roomlog' ? await nodeConnections(server) : undefined;
    const pids: Record<string, number> = { node: server.pid, ...Object.fromEntries(loads.map((l, i) => [`load${i + 1}`, l.pid])) };
    const idle = await withCpuOf(ctx, `${label} / idle, ${fmt(opened.connections)} connections open`, pids, () => sleep(sizes.idleMs));
    const loaded = await withCpuOf(ctx, `${label} / 1 msg/s in each of ${sizes.rooms} rooms`, pids, () =>
      Promise.all(
        loads.map((load, p) => {
          const rooms = roomsOf(p);
          return Promise.all(
            rooms.map(async (room, j) => {
              // Rooms are independent: spread their sends over the second instead of all at once.
              await sleep(((j * sizes.loadProcesses + p) * 1000) / sizes.rooms);
              return load.call<PublishResult>(
                { cmd: 'publish', key: roomKey(room), phase: 'scale', ratePerSecond: 1, durationMs: sizes.publishMs, drainMs: 10_000, histogram: true },
                sizes.publishMs + 120_000,
              );
            }),
          );
        }),
      ).then((perProcess) => perProcess.flat()),
    );
    const results = loaded.result;
    const hist = Histogram.merged(results.map((r) => ({ sparse: r.histogram ?? [], max: r.latency.max })));
    const sum = (f: (r: PublishResult) => number) => results.reduce((s, r) => s + f(r), 0);
    const run: ScaleRun = {
      connections: opened.connections,
      live: opened.live,
      failed: opened.failed,
      openMs,
      beforeKb,
      afterKb,
      reported,
      idleCores: idle.cores.node ?? 0,
      loadedCores: loaded.cores.node ?? 0,
      loadCores: Object.entries(loaded.cores).filter(([k]) => k.startsWith('load')).reduce((s, [, c]) => s + c, 0),
      published: sum((r) => r.published),
      delivered: sum((r) => r.delivered),
      expected: sum((r) => r.expected),
      lost: sum((r) => r.lost),
      broken: sum((r) => r.duplicates + r.outOfOrder + r.seqViolations),
      deliveriesPerSecond: sum((r) => r.deliveriesPerSecond),
      latency: hist.summary(),
    };
    ctx.log(`${label}: ${fmt(run.deliveriesPerSecond)} deliveries/s, p50 ${fmt(run.latency.p50, 1)} ms, p99 ${fmt(run.latency.p99, 1)} ms, lost ${run.lost}, node ${run.loadedCores.toFixed(2)} cores loaded / ${run.idleCores.toFixed(2)} idle`);
    const errors = sum((r) => r.publishErrors);
    if (errors) ctx.notes.push(`${label}: ${errors} publishes failed; first: ${results.find((r) => r.firstError)?.firstError}`);
    for (const l of troubleLines(server)) ctx.notes.push(`${label} log: ${l}`);
    const ended = server.unexpectedEnd();
    if (ended) ctx.notes.push(`${label}: WARNING: server pid ${server.pid} ${ended}; figures are not valid`);
    return run;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    ctx.notes.push(`${label}: FAILED: ${msg.split('\n').slice(0, 12).join('\n    ')}`);
    ctx.log(`${label}: failed: ${msg.split('\n')[0]}`);
    return undefined;
  } finally {
    await procs.stopAll();
  }
}

export const scaleScenario: Scenario = async (ctx) => {
  const sizes = sizesFor(ctx.cfg.quick);
  const runs: Partial<Record<ServerKind, ScaleRun>> = {};
  for (const kind of ctx.cfg.kinds) runs[kind] = await runScale(ctx, kind, sizes);
  const [a, b] = [runs.roomlog, runs.bare];
  const total = sizes.rooms * sizes.perRoom;
  const scenario = `8. ${fmt(total)} subscribed conns on one node (${sizes.rooms} rooms × ${sizes.perRoom}, 1 msg/s per room)`;
  const perConn = (r?: ScaleRun) => (r ? (r.afterKb - r.beforeKb) / r.connections : undefined);
  const mb = (r?: ScaleRun) => (r ? `${fmt(r.beforeKb / 1024, 0)} → ${fmt(r.afterKb / 1024, 0)}` : '—');
  const lat = (r?: ScaleRun) => (r ? `${fmt(r.latency.p50, 1)} / ${fmt(r.latency.p99, 1)}` : '—');
  const cores = (r?: ScaleRun) => (r ? `${r.idleCores.toFixed(3)} / ${r.loadedCores.toFixed(2)}` : '—');
  ctx.notes.push(
    `scale: one server process; ${sizes.loadProcesses} load-client processes (each ≤ ${fmt(Math.ceil(sizes.rooms / sizes.loadProcesses) * (sizes.perRoom + 1))} sockets: a process may hold at most 20,000 open files here), each with ${sizes.sessions} sessions shared by its rooms' subscribers; RSS from /proc after a ${sizes.settleMs / 1000} s settle; idle CPU over ${sizes.idleMs / 1000} s with every connection open (keep-alive pings only); loaded: ${sizes.publishMs / 1000} s at 1 msg/s per room, each room offset within the second; latency = send timestamp in the body → receipt, pooled over every room. ` +
      [a, b].map((r, i) => (r ? `${i ? 'bare' : 'roomlog'}: ${fmt(r.connections)} open / ${fmt(r.live)} live / ${r.failed} failed in ${fmt(r.openMs / 1000, 1)} s${r.reported !== undefined ? ` (the node reports ${fmt(r.reported)} WebSocket connections)` : ''}; published ${fmt(r.published)}, expected ${fmt(r.expected)} deliveries, delivered ${fmt(r.delivered)}, ${fmt(r.deliveriesPerSecond)}/s; load clients ${r.loadCores.toFixed(2)} cores loaded` : '')).filter(Boolean).join('; ') + '.',
  );
  return [
    { scenario, metric: 'connections open / live', roomlog: a ? `${fmt(a.connections)} / ${fmt(a.live)}` : '—', bare: b ? `${fmt(b.connections)} / ${fmt(b.live)}` : '—', ratio: '', target: `${fmt(total)}`, result: a ? verdict(a.connections === total && a.live === total) : '' },
    { scenario, metric: 'KB per connection', roomlog: fmt(perConn(a), 1), bare: fmt(perConn(b), 1), ratio: ratio(perConn(a), perConn(b)), target: '', result: '' },
    { scenario, metric: 'node RSS MB before → after', roomlog: mb(a), bare: mb(b), ratio: '', target: '', result: '' },
    { scenario, metric: 'node CPU cores, idle / loaded', roomlog: cores(a), bare: cores(b), ratio: ratio(a?.loadedCores, b?.loadedCores), target: '', result: '' },
    { scenario, metric: 'latency p50 / p99 ms', roomlog: lat(a), bare: lat(b), ratio: ratio(a?.latency.p99, b?.latency.p99), target: `p99 ≤ ${P99_TARGET_MS} ms`, result: a ? verdict(a.latency.p99 <= P99_TARGET_MS) : '' },
    { scenario, metric: 'lost / dup or reordered', roomlog: a ? `${fmt(a.lost)} / ${fmt(a.broken)}` : '—', bare: b ? `${fmt(b.lost)} / ${fmt(b.broken)}` : '—', ratio: '', target: '0 / 0', result: a ? verdict(a.lost === 0 && a.broken === 0 && a.published > 0) : '' },
  ];
};
