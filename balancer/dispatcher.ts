import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Admission } from './admission.js';
import { BackendPool } from './backendPool.js';
import type { BalancerConfig } from './config.js';
import { discoverBackends } from './discovery.js';

/** A backend as the proxying code needs it. */
export interface BackendRef {
  id: string;
  url: URL;
}

export interface BackendStatus {
  id: string;
  ready: boolean;
  open: number;
}

export type Dispatch =
  | { refused: { status: 503 | 429; reason: string } }
  | { noBackend: true }
  | { backend: BackendRef };

/**
 * The balancer's decisions, apart from the bytes: who is admitted (per TCP connection) and which
 * backend each new connection or request goes to, with the counts that choice is made on. One
 * process makes them all (this one, or the primary for every worker: clusterDispatcher.ts), so
 * caps and least-connections counts are exact however many processes proxy.
 */
export interface Dispatcher {
  /** `ip` given: admit the TCP connection first (its first request). On `backend`, it is counted open. */
  dispatch(ip: string | null): Promise<Dispatch>;
  closed(backend: BackendRef): void;
  /** It could not be reached, or refused as draining: out of rotation until a health check says otherwise. */
  failed(backend: BackendRef): void;
  /** The admitted TCP connection from `ip` closed. */
  release(ip: string): void;
  status(): Promise<BackendStatus[]>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The dispatcher in this process: admission, the backend pool with its health checks, discovery,
 * and their metrics (in `registry`).
 */
export function localDispatcher(config: BalancerConfig, log: Logger, registry: Registry): Dispatcher {
  const ejections = new Counter({ name: 'balancer_ejections_total', help: 'Backends taken out of rotation', labelNames: ['backend'], registers: [registry] });
  const pool = new BackendPool({
    healthIntervalMs: config.HEALTH_INTERVAL_MS,
    healthTimeoutMs: config.HEALTH_TIMEOUT_MS,
    onChange: (backend, event) => {
      if (event === 'ejected') ejections.inc({ backend: backend.id });
      log.info({ backend: backend.id, event }, `backend ${event}`);
    },
  });
  new Gauge({
    name: 'balancer_connections',
    help: 'Open connections through this balancer, per backend',
    labelNames: ['backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const backend of pool.list()) this.set({ backend: backend.id }, backend.open);
    },
  });
  const admission = new Admission({
    maxTotal: config.MAX_CONNECTIONS,
    maxPerIp: config.MAX_CONNECTIONS_PER_IP,
    ratePerIp: config.NEW_CONNECTIONS_PER_SECOND_PER_IP,
    burstPerIp: config.NEW_CONNECTIONS_BURST_PER_IP,
  });
  const sweep = setInterval(() => admission.sweep(), 10_000);
  sweep.unref();
  for (const url of config.BACKENDS) pool.add(url, 'static');
  let discovery: { stop: () => void } | null = null;
  const known = (ref: BackendRef) => pool.list().find((b) => b.id === ref.id);

  return {
    async dispatch(ip) {
      if (ip !== null) {
        const refused = admission.admit(ip);
        if (refused) return { refused };
      }
      const backend = pool.pick();
      if (!backend) return { noBackend: true };
      pool.opened(backend);
      return { backend };
    },
    closed(ref) {
      const backend = known(ref);
      if (backend) pool.closed(backend);
    },
    failed(ref) {
      const backend = known(ref);
      if (backend) pool.eject(backend);
    },
    release: (ip) => admission.release(ip),
    status: async () => pool.list().map(({ id, ready, open }) => ({ id, ready, open })),
    async start() {
      pool.start();
      if (config.REDIS_URL) {
        discovery = discoverBackends({
          url: config.REDIS_URL,
          prefix: config.REDIS_PREFIX,
          intervalMs: config.HEALTH_INTERVAL_MS,
          onBackends: (urls) => pool.setDiscovered(urls),
          onError: (error) => log.warn({ err: error }, 'discovery failed'),
        });
      }
    },
    async stop() {
      clearInterval(sweep);
      pool.stop();
      discovery?.stop();
    },
  };
}
