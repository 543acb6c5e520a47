// Throwaway experiment (not committed): connection rate through the balancer to a fake echo backend.
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { startFakeBackend } from './test/balancer/fakeBackend.js';

const ticks = (pid: number): number => {
  let total = 0;
  const walk = (p: number) => {
    try {
      const rest = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = rest.slice(rest.lastIndexOf(')') + 2).split(' ');
      total += Number(f[11]) + Number(f[12]);
      for (const c of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) walk(Number(c));
    } catch {}
  };
  walk(pid);
  return total;
};
const backend = await startFakeBackend();
const env = { ...process.env, PORT: '18090', HOST: '127.0.0.1', BACKENDS: backend.url, LOG_LEVEL: 'warn', MAX_CONNECTIONS_PER_IP: '1000000', NEW_CONNECTIONS_PER_SECOND_PER_IP: '1000000', NEW_CONNECTIONS_BURST_PER_IP: '1000000', WORKERS: process.argv[2] ?? '2' };
const child = spawn(process.execPath, [...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/exp2'] : []), '--import', 'tsx', 'balancer/main.ts'], { env, stdio: 'inherit' });
await new Promise((r) => setTimeout(r, 3000));
const open = () => new Promise<void>((resolve) => {
  const ws = new WebSocket('ws://127.0.0.1:18090/graphql', 'graphql-transport-ws');
  ws.once('open', () => { ws.close(); });
  ws.once('close', () => resolve());
  ws.once('error', () => resolve());
});
const t0 = ticks(child.pid!);
const start = performance.now();
let n = 0;
const until = start + 4000;
await Promise.all(Array.from({ length: 50 }, async () => { while (performance.now() < until) { await open(); n++; } }));
const secs = (performance.now() - start) / 1000;
const cpu = (ticks(child.pid!) - t0) / 100;
const per = (pid: number) => { const rest = readFileSync(`/proc/${pid}/stat`, 'utf8'); const f = rest.slice(rest.lastIndexOf(')') + 2).split(' '); return Number(f[11]) + Number(f[12]); };
const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
console.log('primary ticks total', per(child.pid!), 'workers', kids.map(per));
console.log(`WORKERS=${env.WORKERS} ${process.env.NODE_CLUSTER_SCHED_POLICY ?? 'rr'}: ${(n / secs).toFixed(0)} conn/s, front CPU ${(cpu * 1e6 / n).toFixed(0)} µs/conn`);
child.kill('SIGTERM');
await backend.close();
process.exit(0);
