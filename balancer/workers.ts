import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry, Registry } from 'prom-client';
import { dispatcherFromPrimary, serveDispatcher } from './clusterDispatcher.js';
import type { BalancerConfig } from './config.js';
import { localDispatcher } from './dispatcher.js';
import { buildBalancer } from './server.js';
import { answer, askPrimary } from './workerRpc.js';

/**
 * The balancer as WORKERS processes on one port (node:cluster: the primary accepts and hands
 * connections out round robin, so the workers share the proxying evenly). The primary makes every
 * decision (dispatcher.ts: admission, health checks, discovery, least connections on exact
 * counts), so the balancer behaves as one whatever WORKERS is; the workers move the bytes, which
 * is the part that costs CPU per message. /metrics merges the workers' counters with the
 * primary's backend figures.
 */
export async function runPrimary(config: BalancerConfig, log: Logger): Promise<void> {
  const registry = new Registry();
  const dispatcher = localDispatcher(config, log, registry);
  const served = serveDispatcher(dispatcher);
  const aggregator = new AggregatorRegistry();
  answer('metrics', async () => `${await aggregator.clusterMetrics()}\n${await registry.metrics()}`);
  await dispatcher.start();
  let stopping = false;
  const restarts: number[] = [];
  const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());

  cluster.on('exit', (worker, code, signal) => {
    served.workerGone(worker);
    if (stopping) return;
    const now = Date.now();
    restarts.push(now);
    while (restarts.length && restarts[0]! < now - 60_000) restarts.shift();
    if (restarts.length > 10 * config.WORKERS) {
      log.fatal({ code, signal }, 'balancer workers keep dying; giving up');
      process.exit(1);
    }
    log.error({ worker: worker.id, code, signal }, 'balancer worker died; starting another');
    cluster.fork();
  });

  const listening = Array.from({ length: config.WORKERS }, () => {
    const worker = cluster.fork();
    return new Promise<number>((resolve, reject) => {
      worker.once('listening', (address) => resolve(address.port));
      worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before listening`)));
    });
  });
  const [port] = await Promise.all(listening);
  const url = `http://${config.HOST}:${port}`;
  log.info({ url, workers: config.WORKERS, backends: config.BACKENDS, discovery: Boolean(config.REDIS_URL) }, `balancer listening on ${url}`);

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const workers = live();
    const exited = workers.map((worker) => new Promise<void>((resolve) => worker.once('exit', () => resolve())));
    for (const worker of workers) worker.process.kill('SIGTERM');
    const killTimer = setTimeout(() => workers.forEach((worker) => worker.process.kill('SIGKILL')), 10_000);
    await Promise.all(exited);
    clearTimeout(killTimer);
    await dispatcher.stop();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

export async function runWorker(config: BalancerConfig, log: Logger): Promise<void> {
  const balancer = buildBalancer(config, log, {
    dispatcher: dispatcherFromPrimary(),
    metrics: () => askPrimary<string>('metrics', null),
  });
  // prom-client's aggregator in the primary asks each worker for these (its own IPC messages).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([balancer.registry]);
  await balancer.start();
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
