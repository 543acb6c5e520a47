import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { AggregatorRegistry, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { BalancerConfig } from './config.js';
import { localDispatcher, type Dispatcher } from './dispatcher.js';
import { dispatcherFromPrimary, serveDispatcher } from './remoteDispatcher.js';
import { buildBalancer, type Balancer } from './server.js';
import { answer, ask, attachWorker, listenToPrimary } from './workerRpc.js';

/** The argument a worker process is started with. */
export const WORKER_FLAG = '--balancer-worker';

type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>;

/** What the primary's parts work on. */
interface Primary {
  config: BalancerConfig;
  log: Logger;
  registry: Registry;
  dispatcher: Dispatcher;
  served: ReturnType<typeof serveDispatcher>;
  workers: ChildProcess[];
  /** The listening socket, once it listens: every worker accepts from it too. */
  listener: Server | null;
  stopping: boolean;
  /** When workers died, over the last minute. */
  restarts: number[];
}

/**
 * The balancer as WORKERS processes on one port: the primary and WORKERS - 1 workers all accept
 * from one listening socket. After the upgrade each frame costs its proxy two system calls, and
 * one chat message fanned out to many sockets is a burst of them, so spreading the sockets over
 * processes spreads the burst over cores. The primary proxies its share like any worker and makes
 * every decision (dispatcher.ts: admission, health checks, discovery, least connections on exact
 * counts); workers ask it over IPC, so the balancer behaves as one. /metrics merges everyone's.
 */
export async function runPrimary(config: BalancerConfig, log: Logger): Promise<void> {
  const workerCount = config.WORKERS - 1;
  const registry = new Registry();
  const dispatcher = localDispatcher(config, log, registry);
  const primary: Primary = {
    config,
    log,
    registry,
    dispatcher,
    served: serveDispatcher(dispatcher),
    workers: [],
    listener: null,
    stopping: false,
    restarts: [],
  };
  const metrics = (): Promise<string> => mergedMetrics(primary, balancer);
  const processes = () => openPerProcess(primary);
  const balancer = buildBalancer(config, log, { dispatcher, metrics, processes });
  answer('metrics-text', metrics);
  answer('processes', processes);

  await Promise.all(Array.from({ length: workerCount }, (_, slot) => startWorker(primary, slot)));
  await balancer.start({ listen: false });
  const server = await listen(primary, balancer);
  const { port } = server.address() as { port: number };
  const url = `http://${config.HOST}:${port}`;
  log.info({ url, workers: config.WORKERS, backends: config.BACKENDS, discovery: Boolean(config.REDIS_URL) }, `balancer listening on ${url}`);

  const stop = () => stopPrimary(primary, balancer, server);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function mergedMetrics({ workers, registry }: Primary, balancer: Balancer): Promise<string> {
  const theirs = await Promise.all(workers.filter((w) => w.connected).map((w) => ask<MetricsJson>(w, 'metrics', null).catch(() => null)));
  const all = [await balancer.registry.getMetricsAsJSON(), await registry.getMetricsAsJSON(), ...theirs.filter((m): m is MetricsJson => m !== null)];
  return AggregatorRegistry.aggregate(all).metrics();
}

async function openPerProcess({ served, dispatcher }: Primary) {
  const theirs = served.holdings();
  const total = (await dispatcher.status()).backends.reduce((n, b) => n + b.open, 0);
  const own = total - theirs.reduce((n, w) => n + w.open, 0);
  return [{ pid: process.pid, open: own }, ...theirs];
}

// Sent once per worker (the documented child_process way to share a server): each process
// accepts from it, and the kernel hands a new connection to one that is waiting, so a process
// busy with a burst takes fewer. No per-connection handover.
const share = (primary: Primary, worker: ChildProcess) => primary.listener && worker.send({ type: 'roomlog:listener' }, primary.listener);

/** Starts the worker in `slot` (again, when it died); resolves once it is ready. */
function startWorker(primary: Primary, slot: number): Promise<void> {
  const worker = fork(process.argv[1]!, [WORKER_FLAG], { stdio: 'inherit' });
  primary.workers[slot] = worker;
  attachWorker(worker);
  worker.once('exit', (code, signal) => workerExited(primary, worker, slot, code, signal));
  return new Promise((resolve, reject) => {
    worker.once('message', () => {
      // Its first word: ready. A replacement gets the listener at once.
      share(primary, worker);
      resolve();
    });
    worker.once('exit', (code) => reject(new Error(`balancer worker exited with ${code} before it was ready`)));
  });
}

function workerExited(primary: Primary, worker: ChildProcess, slot: number, code: number | null, signal: NodeJS.Signals | null): void {
  const { config, log, restarts } = primary;
  primary.served.workerGone(worker);
  if (primary.stopping) return;
  const now = Date.now();
  restarts.push(now);
  while (restarts.length && restarts[0]! < now - 60_000) restarts.shift();
  if (restarts.length > 10 * config.WORKERS) {
    log.fatal({ code, signal }, 'balancer workers keep dying; giving up');
    process.exit(1);
  }
  log.error({ worker: slot + 1, code, signal }, 'balancer worker died; starting another');
  void startWorker(primary, slot);
}

/** Listens on PORT/HOST, and shares the listening socket with every worker. */
async function listen(primary: Primary, balancer: Balancer): Promise<Server> {
  const { config } = primary;
  const server = createServer({ noDelay: true }, (socket: Socket) => balancer.accept(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  primary.listener = server;
  primary.workers.forEach((worker) => share(primary, worker));
  return server;
}

async function stopPrimary(primary: Primary, balancer: Balancer, server: Server): Promise<void> {
  if (primary.stopping) return;
  primary.stopping = true;
  server.close();
  const live = primary.workers.filter((w) => w.exitCode === null && w.signalCode === null);
  const exited = live.map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())));
  for (const worker of live) worker.kill('SIGTERM');
  const killTimer = setTimeout(() => live.forEach((w) => w.kill('SIGKILL')), 10_000);
  await Promise.all([balancer.stop(), ...exited]);
  clearTimeout(killTimer);
  process.exit(0);
}

export async function runWorker(config: BalancerConfig, log: Logger): Promise<void> {
  listenToPrimary();
  const balancer = buildBalancer(config, log, {
    dispatcher: dispatcherFromPrimary(),
    metrics: () => ask<string>(null, 'metrics-text', null),
    processes: () => ask(null, 'processes', null),
  });
  answer('metrics', () => balancer.registry.getMetricsAsJSON());
  await balancer.start({ listen: false });
  let shared: Server | null = null;
  process.on('message', (message: { type?: string }, handle?: Server) => {
    if (message?.type !== 'roomlog:listener' || !handle) return;
    shared = handle;
    handle.on('connection', (socket: Socket) => balancer.accept(socket));
  });
  process.send!('ready');
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    shared?.close();
    void balancer.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  // Ctrl-C reaches every process of the group; the primary decides.
  process.on('SIGINT', () => {});
  // The primary is gone (even by kill -9): nobody hands out connections any more.
  process.once('disconnect', stop);
}
