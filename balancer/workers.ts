import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { AggregatorRegistry, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { BalancerConfig } from './config.js';
import { localDispatcher } from './dispatcher.js';
import { dispatcherFromPrimary, serveDispatcher } from './remoteDispatcher.js';
import { buildBalancer } from './server.js';
import { answer, ask, attachWorker, listenToPrimary } from './workerRpc.js';

/** The argument a worker process is started with. */
export const WORKER_FLAG = '--balancer-worker';

type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>;

/**
 * The balancer as WORKERS processes on one port. The primary accepts every connection and deals
 * them out in turn: one for itself, one for each worker (handed over with the socket, the
 * documented child_process way). After the upgrade each frame costs its proxy two system calls,
 * and one chat message fanned out to many sockets is a burst of them, so spreading the sockets
 * over processes spreads the burst over cores. The primary proxies its own share, so its
 * connections cost nothing extra, and it makes every decision (dispatcher.ts: admission, health
 * checks, discovery, least connections on exact counts); workers ask it over IPC, so the balancer
 * behaves as one. /metrics merges everyone's.
 */
export async function runPrimary(config: BalancerConfig, log: Logger): Promise<void> {
  const workerCount = config.WORKERS - 1;
  const registry = new Registry();
  const dispatcher = localDispatcher(config, log, registry);
  const served = serveDispatcher(dispatcher);
  const workers: ChildProcess[] = [];
  let stopping = false;
  const restarts: number[] = [];

  const metrics = async (): Promise<string> => {
    const theirs = await Promise.all(workers.filter((w) => w.connected).map((w) => ask<MetricsJson>(w, 'metrics', null).catch(() => null)));
    const all = [await balancer.registry.getMetricsAsJSON(), await registry.getMetricsAsJSON(), ...theirs.filter((m): m is MetricsJson => m !== null)];
    return AggregatorRegistry.aggregate(all).metrics();
  };
  const balancer = buildBalancer(config, log, { dispatcher, metrics });
  answer('metrics-text', metrics);

  const start = (slot: number): Promise<void> => {
    const worker = fork(process.argv[1]!, [WORKER_FLAG], { stdio: 'inherit' });
    workers[slot] = worker;
    attachWorker(worker);
    worker.once('exit', (code, signal) => {
      served.workerGone(worker);
      if (stopping) return;
      const now = Date.now();
      restarts.push(now);
      while (restarts.length && restarts[0]! < now - 60_000) restarts.shift();
      if (restarts.length > 10 * config.WORKERS) {
        log.fatal({ code, signal }, 'balancer workers keep dying; giving up');
        process.exit(1);
      }
      log.error({ worker: slot + 1, code, signal }, 'balancer worker died; starting another');
      void start(slot);
    });
    return new Promise((resolve, reject) => {
      worker.once('message', () => resolve()); // its first word: ready
      worker.once('exit', (code) => reject(new Error(`balancer worker exited with ${code} before it was ready`)));
    });
  };
  await Promise.all(Array.from({ length: workerCount }, (_, slot) => start(slot)));
  await balancer.start({ listen: false });

  // Deal connections out in turn: the primary, then each worker.
  let turn = 0;
  const listener = createServer({ pauseOnConnect: true, noDelay: true }, (socket: Socket) => {
    const slot = turn++ % config.WORKERS;
    const worker = slot === 0 ? null : workers[slot - 1];
    if (!worker?.connected) return balancer.accept(socket);
    worker.send({ type: 'roomlog:connection' }, socket, { keepOpen: false }, (error) => {
      // Not handed over (the worker just died): serve it here.
      if (error && !socket.destroyed) balancer.accept(socket);
    });
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(config.PORT, config.HOST, () => resolve());
  });
  const { port } = listener.address() as { port: number };
  const url = `http://${config.HOST}:${port}`;
  log.info({ url, workers: config.WORKERS, backends: config.BACKENDS, discovery: Boolean(config.REDIS_URL) }, `balancer listening on ${url}`);

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    listener.close();
    const live = workers.filter((w) => w.exitCode === null && w.signalCode === null);
    const exited = live.map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())));
    for (const worker of live) worker.kill('SIGTERM');
    const killTimer = setTimeout(() => live.forEach((w) => w.kill('SIGKILL')), 10_000);
    await Promise.all([balancer.stop(), ...exited]);
    clearTimeout(killTimer);
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

export async function runWorker(config: BalancerConfig, log: Logger): Promise<void> {
  listenToPrimary();
  const balancer = buildBalancer(config, log, {
    dispatcher: dispatcherFromPrimary(),
    metrics: () => ask<string>(null, 'metrics-text', null),
  });
  answer('metrics', () => balancer.registry.getMetricsAsJSON());
  await balancer.start({ listen: false });
  process.on('message', (message: { type?: string }, socket?: Socket) => {
    if (message?.type === 'roomlog:connection' && socket) balancer.accept(socket);
  });
  process.send!('ready');
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void balancer.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  // Ctrl-C reaches every process of the group; the primary decides.
  process.on('SIGINT', () => {});
  // The primary is gone (even by kill -9): nobody hands out connections any more.
  process.once('disconnect', stop);
}
