/** What every scenario gets from run.ts, and the start-server-plus-load-client wrapper they share. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLoadClient, type LoadClient } from '../loadProcess.js';
import { startServer, type ServerHandle, type ServerKind } from '../serverProcess.js';
import { sampleCpu, usageSince, waitForQuiet } from '../cpuMonitor.js';
import type { Row } from '../table.js';

export interface BenchConfig {
  quick: boolean;
  /** Which servers to measure; `bare` alone works before src/main.ts exists. */
  kinds: ServerKind[];
  eventStore: string;
  /** Checkout whose src/main.ts is started as the roomlog server. */
  serverRoot: string;
  senders: number[];
  throughputRooms: number;
  throughputMs: number;
  throughputMaxMessages: number;
  fanoutSubscribers: number;
  fanoutRate: number;
  fanoutMs: number;
  saturatedRate: number;
  saturatedMs: number;
  memoryConnections: number;
  memorySettleMs: number;
  replayEvents: number;
  replayEventsPerRoom: number;
  /** fanout2: subscribers split over two nodes, a steady then a saturated rate. */
  fanout2Subscribers: number;
  fanout2Rate: number;
  fanout2Ms: number;
  fanout2SaturatedRate: number;
  fanout2SaturatedMs: number;
  fanout2Rounds: number;
  /** fanout2 (5c): subscribers opened and closed on each cluster before any opening is timed. */
  fanout2WarmupSubscribers: number;
  /** fanout2 (5c): timed openings per cluster, in alternating order; the last one stays open. */
  fanout2OpenRounds: number;
  /** balancer: fan-out through each front (steady, saturated; `rounds` interleaved), then new connections/s. */
  balancerSubscribers: number;
  balancerRate: number;
  balancerMs: number;
  balancerSaturatedRate: number;
  balancerSaturatedMs: number;
  balancerRounds: number;
  connectMs: number;
  connectConcurrency: number;
  connectMax: number;
  /** Before each measured step, wait at most this long for other processes to go quiet. */
  quietWaitMs: number;
}

export function configFor(quick: boolean): Omit<BenchConfig, 'kinds' | 'eventStore' | 'serverRoot'> {
  return quick
    ? {
        quick, senders: [1, 10, 100], throughputRooms: 1, throughputMs: 1_500, throughputMaxMessages: 20_000,
        fanoutSubscribers: 200, fanoutRate: 20, fanoutMs: 3_000, saturatedRate: 100, saturatedMs: 2_000,
        memoryConnections: 500, memorySettleMs: 1_500, replayEvents: 20_000, replayEventsPerRoom: 2_000, quietWaitMs: 3_000,
        fanout2Subscribers: 400, fanout2Rate: 10, fanout2Ms: 3_000, fanout2SaturatedRate: 100, fanout2SaturatedMs: 2_000, fanout2Rounds: 1, fanout2WarmupSubscribers: 100, fanout2OpenRounds: 1,
        balancerSubscribers: 200, balancerRate: 20, balancerMs: 3_000, balancerSaturatedRate: 100, balancerSaturatedMs: 2_000, balancerRounds: 1,
        connectMs: 1_500, connectConcurrency: 50, connectMax: 3_000,
      }
    : {
        quick, senders: [1, 10, 100], throughputRooms: 1, throughputMs: 5_000, throughputMaxMessages: 100_000,
        fanoutSubscribers: 1_000, fanoutRate: 20, fanoutMs: 10_000, saturatedRate: 100, saturatedMs: 5_000,
        memoryConnections: 5_000, memorySettleMs: 3_000, replayEvents: 200_000, replayEventsPerRoom: 2_000, quietWaitMs: 30_000,
        fanout2Subscribers: 2_000, fanout2Rate: 10, fanout2Ms: 10_000, fanout2SaturatedRate: 100, fanout2SaturatedMs: 5_000, fanout2Rounds: 2, fanout2WarmupSubscribers: 400, fanout2OpenRounds: 5,
        balancerSubscribers: 1_000, balancerRate: 20, balancerMs: 10_000, balancerSaturatedRate: 100, balancerSaturatedMs: 5_000, balancerRounds: 2,
        connectMs: 4_000, connectConcurrency: 50, connectMax: 8_000,
      };
}

export interface ScenarioContext {
  cfg: BenchConfig;
  /** A fresh temporary directory under the run's own temp root (removed at the end). */
  tmpDir(label: string): string;
  /** Free-text findings printed under the table (errors, server misbehaviour, evidence). */
  notes: string[];
  log(msg: string): void;
}

export type Scenario = (ctx: ScenarioContext) => Promise<Row[]>;

export function makeTmpRoot(): string {
  return mkdtempSync(join(tmpdir(), 'roomlog-bench-'));
}

export function serverEnv(ctx: ScenarioContext, kind: ServerKind): Record<string, string> {
  return kind === 'roomlog' ? { EVENT_STORE: ctx.cfg.eventStore } : {};
}

/**
 * Starts `kind` on a fresh DATA_DIR plus a fresh load client, runs `fn`, and always stops both.
 * A failure is turned into a note and `undefined`, so one broken server does not hide the other's figures.
 */
export async function withServer<T>(
  ctx: ScenarioContext,
  kind: ServerKind,
  label: string,
  fn: (server: ServerHandle, load: LoadClient) => Promise<T>,
): Promise<T | undefined> {
  let server: ServerHandle | undefined;
  let load: LoadClient | undefined;
  try {
    server = await startServer(kind, { dataDir: ctx.tmpDir(`${label}-${kind}`), env: serverEnv(ctx, kind), serverRoot: ctx.cfg.serverRoot });
    ctx.log(`${label}: ${kind} listening at ${server.url} (pid ${server.pid})`);
    load = startLoadClient();
    return await fn(server, load);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    ctx.notes.push(`${label} / ${kind}: FAILED: ${msg.split('\n').slice(0, 12).join('\n    ')}`);
    if (server) ctx.notes.push(`  last server output:\n    ${server.output.slice(-8).join('\n    ')}`);
    ctx.log(`${label}: ${kind} failed: ${msg.split('\n')[0]}`);
    return undefined;
  } finally {
    const ended = server?.unexpectedEnd();
    if (ended) {
      ctx.notes.push(`${label} / ${kind}: WARNING: server pid ${server!.pid} ${ended}; figures of this step are not valid`);
      ctx.log(`${label}: ${kind} server ${ended}`);
    }
    await load?.stop();
    await server?.stop();
  }
}

const fmtS = (ms: number): string => `${(ms / 1000).toFixed(0)} s`;

/** Cores used by other processes above which a figure is flagged as disturbed. */
const OTHER_CPU_LIMIT = 0.3;

/**
 * Runs one measured step and notes how much CPU the server, the load client and everything else
 * used meanwhile; warns when other processes took a noticeable share of the two cores.
 */
export async function withCpu<T>(ctx: ScenarioContext, label: string, server: ServerHandle, load: LoadClient, fn: () => Promise<T>): Promise<T> {
  const quiet = await waitForQuiet([server.pid, load.pid], OTHER_CPU_LIMIT, ctx.cfg.quietWaitMs);
  if (quiet.other >= OTHER_CPU_LIMIT) ctx.log(`${label}: other processes still use ${quiet.other.toFixed(2)} cores after ${fmtS(quiet.waitedMs)}; measuring anyway`);
  else if (quiet.waitedMs > 1_500) ctx.log(`${label}: waited ${fmtS(quiet.waitedMs)} for other processes to quieten`);
  const start = sampleCpu([server.pid, load.pid]);
  const result = await fn();
  const u = usageSince(start);
  const line = `CPU cores: server ${u.byPid.get(server.pid)!.toFixed(2)} (kernel ${u.sysByPid.get(server.pid)!.toFixed(2)}), load client ${u.byPid.get(load.pid)!.toFixed(2)}, other processes ${u.other.toFixed(2)}`;
  ctx.log(`${label}: ${line}`);
  ctx.notes.push(`${label}: ${line}${u.other > OTHER_CPU_LIMIT ? ' — WARNING: other processes were busy, this figure is disturbed' : ''}`);
  return result;
}

/** Looks for server log lines that suggest trouble (pino level ≥ 50, or the words error/warn). */
export function troubleLines(server: ServerHandle, max = 5): string[] {
  return server.output
    .filter((l) => /"level":\s*(5\d|60)/.test(l) || /\b(error|Error|unhandled|overflow)\b/.test(l))
    .slice(-max)
    .map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l));
}
