/**
 * The balancer as several processes (WORKERS, default one per CPU): all accept from one listening
 * socket, and the primary makes every decision. What must hold: caps and counts stay
 * exact across processes, a worker that dies is replaced and gives its connections back, and the
 * primary dying takes its workers with it.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { sleep } from '../support/gql.js';
import { waitFor } from '../support/signals.js';
import { killAllBalancers, startBalancer, type BalancerHandle } from '../support/balancerProcess.js';
import { startFakeBackend, type FakeBackend } from './fakeBackend.js';
import { mustOpen, openSocket } from './lightClients.js';

let backend: FakeBackend | null = null;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await backend?.close();
  backend = null;
});
afterAll(killAllBalancers);

/** The balancer's worker processes (children of the primary; WORKERS counts the primary too). */
function workerPids(balancer: BalancerHandle): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(balancer.process.pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function threeProcesses(env: Record<string, string> = {}) {
  backend = await startFakeBackend();
  const balancer = await startBalancer({ env: { BACKENDS: backend.url, WORKERS: '3', HEALTH_INTERVAL_MS: '100', ...env } });
  await balancer.waitForBackends((list) => list[0]?.ready === true, 10_000, 'backend ready');
  expect(workerPids(balancer)).toHaveLength(2);
  return balancer;
}

async function healthzProcesses(balancer: BalancerHandle): Promise<Array<{ pid: number; open: number }>> {
  const response = await fetch(`${balancer.url}/healthz`);
  return ((await response.json()) as { processes: Array<{ pid: number; open: number }> }).processes;
}

async function open(balancer: BalancerHandle, n: number): Promise<WebSocket[]> {
  const opened = await Promise.all(Array.from({ length: n }, () => mustOpen(balancer.wsUrl, { init: false })));
  sockets.push(...opened);
  return opened;
}

describe('balancer workers', () => {
  it('one per-IP cap and one count for all processes: the cap is exact and /healthz and /metrics add up', async () => {
    const balancer = await threeProcesses({ MAX_CONNECTIONS_PER_IP: '12' });
    await open(balancer, 12);
    const refused = await openSocket(balancer.wsUrl, { init: false });
    expect(refused).toMatchObject({ ok: false, status: 429 });
    expect((await balancer.backends())[0]).toMatchObject({ open: 12 });
    const metrics = await balancer.metrics();
    expect(metrics).toMatch(/balancer_upgrades_total 12\b/);
    expect(metrics).toMatch(/balancer_connections\{backend="[^"]+"\} 12\b/);
    expect(metrics).toMatch(/balancer_failures_total\{reason="refused"\} 1\b/);
  });

  it('a worker killed with -9 is replaced, and what it held (per-IP admissions, backend counts) is given back', async () => {
    const balancer = await threeProcesses({ MAX_CONNECTIONS_PER_IP: '30' });
    const opened = await open(balancer, 30);
    // Every process accepts from the one listening socket; /healthz says who holds what.
    const processes = await healthzProcesses(balancer);
    expect(processes.reduce((n, p) => n + p.open, 0)).toBe(30);
    const workers = processes.filter((p) => p.pid !== balancer.process.pid).sort((a, b) => b.open - a.open);
    const victim = workers[0]!;
    expect(victim.open).toBeGreaterThan(0);
    process.kill(victim.pid, 'SIGKILL');
    await balancer.waitForLog(/balancer worker died; starting another/, 10_000);
    const closedCount = () => opened.filter((ws) => ws.readyState === ws.CLOSED).length;
    const deadline = Date.now() + 5_000;
    while (closedCount() < victim.open && Date.now() < deadline) await sleep(20);
    expect(closedCount()).toBe(victim.open);
    const after = await balancer.waitForBackends((list) => list[0]?.open === 30 - victim.open, 5_000, 'its connections given back');
    expect(after[0]!.ready).toBe(true);
    // The cap counts only the survivors: exactly as many more fit as were lost, then 429.
    await open(balancer, victim.open);
    expect(await openSocket(balancer.wsUrl, { init: false })).toMatchObject({ ok: false, status: 429 });
    await waitFor(() => workerPids(balancer).length === 2 && !workerPids(balancer).includes(victim.pid), 5_000, 'the replacement worker running');
    expect(workerPids(balancer)).toHaveLength(2);
    expect(workerPids(balancer)).not.toContain(victim.pid);
  });

  it('the primary killed with -9 takes its workers with it (no orphan keeps proxying)', async () => {
    const balancer = await threeProcesses();
    const [ws] = await open(balancer, 1);
    const pids = workerPids(balancer);
    const closed = new Promise<void>((resolve) => ws!.once('close', () => resolve()));
    await balancer.kill();
    await closed;
    const deadline = Date.now() + 5_000;
    while (pids.some(alive) && Date.now() < deadline) await sleep(50);
    expect(pids.filter(alive)).toEqual([]);
  });

  it('SIGTERM stops every worker and exits 0', async () => {
    const balancer = await threeProcesses();
    await open(balancer, 4);
    const pids = workerPids(balancer);
    expect(await balancer.stop()).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
  });
});
