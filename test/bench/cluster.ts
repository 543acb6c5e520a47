/**
 * Multi-process setups for the two-node scenarios: a private redis-server, two roomlog nodes on one
 * DATA_DIR + Redis + JWT secret, two bare ws + Redis nodes, the roomlog balancer and HAProxy.
 * Everything is spawned through processes.ts (so the final kill reaches it) and registered in a
 * `Procs` group that the scenario stops in its `finally`.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { sampleCpu, usageSince, waitForQuiet } from './cpuMonitor.js';
import { sleep } from './load/stats.js';
import { fdLimits, spawnCommand, stopChild } from './processes.js';
import { startServer, type ServerHandle, type ServerKind } from './serverProcess.js';
import type { ScenarioContext } from './scenarios/context.js';

export interface Aux {
  name: string;
  pid: number;
  url: string;
  output: string[];
  stop(): Promise<void>;
}

/** Whatever a scenario started, stopped newest first, each stop's failure ignored. */
export class Procs {
  private readonly items: { stop(): Promise<void> }[] = [];
  add<T extends { stop(): Promise<void> }>(p: T): T {
    this.items.push(p);
    return p;
  }
  async stopAll(): Promise<void> {
    for (const p of this.items.splice(0).reverse()) await p.stop().catch(() => undefined);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export function commandExists(name: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

function keepOutput(child: ChildProcess, output: string[]): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      output.push(...lines.filter(Boolean));
      if (output.length > 200) output.splice(0, output.length - 200);
    });
  }
}

function aux(name: string, child: ChildProcess, url: string, output: string[]): Aux {
  return { name, pid: child.pid!, url, output, stop: () => stopChild(child, 2_000) };
}

/** `redis-server` on a free port, nothing persisted; a few tries in case the port was taken meanwhile. */
export async function startRedis(): Promise<Aux> {
  let last = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawnCommand(`redis-server --port ${port} --bind 127.0.0.1 --save '' --appendonly no`, { stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    keepOutput(child, output);
    const ready = await new Promise<boolean>((resolve) => {
      const deadline = setTimeout(() => resolve(false), 10_000);
      const poll = setInterval(() => {
        if (output.some((l) => l.includes('Ready to accept connections'))) done(true);
      }, 50);
      const done = (ok: boolean): void => {
        clearTimeout(deadline);
        clearInterval(poll);
        resolve(ok);
      };
      child.once('exit', () => done(false));
    });
    if (ready) return aux('redis', child, `redis://127.0.0.1:${port}`, output);
    last = output.slice(-5).join(' | ');
    await stopChild(child, 1_000);
  }
  throw new Error(`redis-server did not start: ${last}`);
}

/** Two nodes of `kind` on the same Redis (roomlog: also the same DATA_DIR and JWT secret); node 1 first, as it creates the schema. */
export async function startPair(ctx: ScenarioContext, kind: ServerKind, redisUrl: string, label: string, procs: Procs): Promise<ServerHandle[]> {
  const dataDir = ctx.tmpDir(`${label}-${kind}`);
  const env: Record<string, string> = { REDIS_URL: redisUrl };
  // The one open-loop publisher socket can have far more than the default 100 sends in flight once
  // the nodes fall behind; the node would refuse those ("at most 100 queries and mutations at once").
  if (kind === 'roomlog') {
    Object.assign(env, {
      EVENT_STORE: 'sqlite',
      JWT_SECRET: randomBytes(24).toString('base64url'),
      MAX_SUBSCRIPTIONS_PER_CONNECTION: '100000',
      MAX_OPERATIONS_PER_CONNECTION: '100000',
    });
  }
  const nodes: ServerHandle[] = [];
  for (const n of [1, 2]) {
    const node = await startServer(kind, { dataDir, env: { ...env, NODE_ID: `bench-${label}-${n}` }, serverRoot: ctx.cfg.serverRoot });
    nodes.push(procs.add(node));
    ctx.log(`${label}: ${kind} node ${n} at ${node.url} (pid ${node.pid})`);
  }
  return nodes;
}

/** GETs `url` and parses JSON, or undefined on any failure (2 s bound). */
export async function getJson(url: string): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body };
  } catch {
    return undefined;
  }
}

/** The node's own count of open WebSocket connections (from /readyz). */
export async function nodeConnections(node: ServerHandle): Promise<number | undefined> {
  const r = await getJson(`${node.url}/readyz`);
  const c = (r?.body as { connections?: unknown } | undefined)?.connections;
  return typeof c === 'number' ? c : undefined;
}

async function waitUntil(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await ok()) return;
    await sleep(200);
  }
  throw new Error(`${what}: not ready within ${timeoutMs} ms`);
}

/** `balancer/main.ts` on PORT=0 in front of `backends`, per-IP limits raised (all load comes from 127.0.0.1). */
export async function startBalancer(ctx: ScenarioContext, backends: ServerHandle[], procs: Procs): Promise<ServerHandle> {
  const big = '1000000';
  const env = {
    BACKENDS: backends.map((b) => b.url).join(','),
    MAX_CONNECTIONS: big,
    MAX_CONNECTIONS_PER_IP: big,
    NEW_CONNECTIONS_PER_SECOND_PER_IP: big,
    NEW_CONNECTIONS_BURST_PER_IP: big,
    HEALTH_INTERVAL_MS: '1000',
  };
  const bal = procs.add(await startServer('roomlog', { script: 'balancer/main.ts', dataDir: ctx.tmpDir('balancer'), env, serverRoot: ctx.cfg.serverRoot }));
  await waitUntil('balancer backends', async () => {
    const h = await getJson(`${bal.url}/healthz`);
    const list = (h?.body as { backends?: { ready: boolean }[] } | undefined)?.backends ?? [];
    return list.length === backends.length && list.every((b) => b.ready);
  }, 15_000);
  return bal;
}

export function haproxyConfig(port: number, backends: ServerHandle[]): string {
  // Two fds per proxied connection; HAProxy refuses to start if maxconn needs more than the hard limit.
  const maxconn = Math.max(1_000, Math.min(100_000, Math.floor((fdLimits().hard - 200) / 2)));
  const servers = backends.map((b, i) => `  server n${i + 1} ${new URL(b.url).host} check inter 1s`);
  return [
    'global',
    `  maxconn ${maxconn}`,
    'defaults',
    '  mode http',
    '  option forwardfor',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout tunnel 1h',
    '  timeout http-request 10s',
    '  timeout http-keep-alive 60s',
    'frontend bench',
    `  bind 127.0.0.1:${port}`,
    '  default_backend nodes',
    'backend nodes',
    '  balance leastconn',
    '  option httpchk GET /readyz',
    ...servers,
    '',
  ].join('\n');
}

/** HAProxy (Debian's package) with a config written here; `{ missing }` when it is not installed or will not start. */
export async function startHaproxy(ctx: ScenarioContext, backends: ServerHandle[], procs: Procs): Promise<Aux | { missing: string }> {
  if (!commandExists('haproxy')) return { missing: 'haproxy is not on PATH (apt-get install -y haproxy)' };
  const port = await freePort();
  const file = join(ctx.tmpDir('haproxy'), 'haproxy.cfg');
  writeFileSync(file, haproxyConfig(port, backends));
  const check = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8', timeout: 10_000 });
  if (check.status !== 0) return { missing: `haproxy -c rejected the config: ${(check.stderr || check.stdout).trim().slice(0, 300)}` };
  const child = spawnCommand(`haproxy -db -f '${file}'`, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  keepOutput(child, output);
  const h = procs.add(aux('haproxy', child, `http://127.0.0.1:${port}`, output));
  try {
    // Ready when both servers passed a check: two /readyz in a row answered through it.
    let ok = 0;
    await waitUntil('haproxy', async () => {
      if (child.exitCode !== null) throw new Error(`haproxy exited (${child.exitCode}): ${output.slice(-5).join(' | ')}`);
      ok = (await getJson(`${h.url}/readyz`))?.status === 200 ? ok + 1 : 0;
      return ok >= 4;
    }, 15_000);
  } catch (e) {
    return { missing: e instanceof Error ? e.message : String(e) };
  }
  const version = spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
  ctx.log(`haproxy at ${h.url} (pid ${h.pid}): ${version}`);
  return h;
}

const OTHER_CPU_LIMIT = 0.3;

/**
 * Like withCpu (scenarios/context.ts), for any set of named pids; returns the cores each used.
 * irq/softirq time is shown apart from other processes (on loopback much of it is our own traffic)
 * and does not by itself flag a step as disturbed.
 */
export async function withCpuOf<T>(
  ctx: ScenarioContext,
  label: string,
  pids: Record<string, number>,
  fn: () => Promise<T>,
): Promise<{ result: T; cores: Record<string, number>; other: number; irq: number }> {
  const list = Object.values(pids);
  const quiet = await waitForQuiet(list, OTHER_CPU_LIMIT, ctx.cfg.quietWaitMs);
  if (quiet.other >= OTHER_CPU_LIMIT) ctx.log(`${label}: other processes still use ${quiet.other.toFixed(2)} cores; measuring anyway`);
  const start = sampleCpu(list);
  const result = await fn();
  const u = usageSince(start);
  const cores = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, u.byPid.get(pid) ?? 0]));
  const other = Math.max(0, u.other - u.irq);
  const line = `CPU cores: ${Object.entries(cores).map(([n, c]) => `${n} ${c.toFixed(2)}`).join(', ')}, irq/softirq ${u.irq.toFixed(2)}, other processes ${other.toFixed(2)}`;
  ctx.log(`${label}: ${line}`);
  ctx.notes.push(`${label}: ${line}${other > OTHER_CPU_LIMIT ? ' — WARNING: other processes were busy, this figure is disturbed' : ''}`);
  return { result, cores, other, irq: u.irq };
}

/** Whether a step's other-process CPU stayed under the limit at which it is flagged. */
export const undisturbed = (p: { other: number }): boolean => p.other <= OTHER_CPU_LIMIT;
