import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Admission, type Refusal } from './admission.js';
import { BackendPool, type BackendState, type Failure, type Kind } from './backendPool.js';
import type { BalancerConfig } from './config.js';
import { discoverBackends } from './discovery.js';

export type { Failure, Kind, Refusal };

/** A backend as the proxying code needs it. */
export interface BackendRef {
  id: string;
  url: URL;
}

export interface BackendStatus {
  id: string;
  ready: boolean;
  state: BackendState;
  open: number;
}

/** What /healthz shows: every backend, and whether no node is ready and traffic goes to unready ones. */
export interface PoolStatus {
  backends: BackendStatus[];
  panic: boolean;
}

export type Dispatch = { noBackend: true } | { backend: BackendRef };

/**
 * The balancer's decisions, apart from the bytes: who is admitted (per TCP connection, when it is
 * accepted) and which backend each new connection or request goes to, with the counts that choice
 * is made on. One process makes them all (this one, or the primary for every worker:
 * remoteDispatcher.ts), so caps and least-connections counts are exact however many processes
 * proxy.
 */
export interface Dispatcher {
  /** A TCP connection from `ip` was accepted: counted (null), or refused and not counted. */
  admit(ip: string): Promise<Refusal | null>;
  /** The admitted TCP connection from `ip` closed. */
  release(ip: string): void;
  /** A backend for a new request or WebSocket; on `backend`, it is counted open until `closed`. */
  dispatch(kind: Kind): Promise<Dispatch>;
  closed(backend: BackendRef, kind: Kind): void;
  /** A request to it failed (unreachable, refused as draining, or no answer in time): out of rotation until a health check says otherwise. */
  failed(backend: BackendRef, failure: Failure): void;
  status(): Promise<PoolStatus>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The dispatcher in this process: admission, the backend pool with its health checks, discovery,
 * and their metrics (in `registry`).
 */
export function localDispatcher(config: BalancerConfig, log: Logger, registry: Registry): Dispatcher {
  const ejections = new Counter({ name: 'balancer_ejections_total', help: 'Backends taken out of rotation', labelNames: ['backend'], registers: [registry] });
  const panicRouted = new Counter({
    name: 'balancer_panic_routed_total',
    help: 'Requests and upgrades sent to an unready node because no node was ready (panic)',
    registers: [registry],
  });
  const pool = createPool(config, log, ejections);
  gaugePool(pool, registry);
  const admission = new Admission({
    maxTotal: config.MAX_CONNECTIONS,
    maxPerIp: config.MAX_CONNECTIONS_PER_IP,
    ratePerIp: config.NEW_CONNECTIONS_PER_SECOND_PER_IP,
    burstPerIp: config.NEW_CONNECTIONS_BURST_PER_IP,
  });
  const sweep = setInterval(() => admission.sweep(), 10_000);
  sweep.unref();
  for (const url of config.BACKENDS) pool.add(url, 'static');
  const state: LocalDispatch = { config, log, pool, discovery: null };
  const known = (ref: BackendRef) => pool.list().find((b) => b.id === ref.id);

  return {
    admit: async (ip) => admission.admit(ip),
    release: (ip) => admission.release(ip),
    async dispatch(kind) {
      const picked = pool.pick();
      if (!picked) return { noBackend: true };
      if (picked.panic) panicRouted.inc();
      pool.opened(picked.backend, kind);
      return { backend: picked.backend };
    },
    closed(ref, kind) {
      const backend = known(ref);
      if (backend) pool.closed(backend, kind);
    },
    failed(ref, failure) {
      const backend = known(ref);
      if (backend) pool.eject(backend, failure);
    },
    status: async () => ({
      backends: pool.list().map(({ id, ready, state, open }) => ({ id, ready, state, open })),
      panic: pool.inPanic,
    }),
    async start() {
      pool.start();
      if (config.REDIS_URL) state.discovery = startDiscovery(state, config.REDIS_URL);
    },
    async stop() {
      clearInterval(sweep);
      pool.stop();
      state.discovery?.stop();
    },
  };
}

/** What the local dispatcher's start and stop work on. */
interface LocalDispatch {
  config: BalancerConfig;
  log: Logger;
  pool: BackendPool;
  discovery: { stop: () => void } | null;
}

function createPool(config: BalancerConfig, log: Logger, ejections: Counter<'backend'>): BackendPool {
  return new BackendPool({
    healthIntervalMs: config.HEALTH_INTERVAL_MS,
    healthTimeoutMs: config.HEALTH_TIMEOUT_MS,
    onChange: (backend, event) => {
      if (event === 'ejected') ejections.inc({ backend: backend.id });
      log.info({ backend: backend.id, event, state: backend.state }, `backend ${event}`);
    },
    onPanic: (panic, unready) => {
      if (panic) log.warn({ unready }, `no node is ready: panic, routing to the ${unready} that answer anyway`);
      else log.info('panic over: routing to ready nodes only');
    },
  });
}

/** The pool's gauges, read when /metrics is asked. */
function gaugePool(pool: BackendPool, registry: Registry): void {
  new Gauge({
    name: 'balancer_panic',
    help: '1 while no node is ready and traffic goes to unready ones anyway',
    registers: [registry],
    collect() {
      this.set(pool.inPanic ? 1 : 0);
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
}

/** Nodes announcing themselves in Redis (discovery.ts) join the pool; one that stops announcing drops out. */
function startDiscovery({ config, log, pool }: LocalDispatch, url: string): { stop: () => void } {
  // Said once per outage, not at every round and reconnect attempt; the nodes known so far
  // stay meanwhile (and health checks still run on them).
  let failing = false;
  return discoverBackends({
    url,
    prefix: config.REDIS_PREFIX,
    intervalMs: config.HEALTH_INTERVAL_MS,
    onBackends: (urls) => {
      if (failing) log.info('discovery answers again');
      failing = false;
      pool.setDiscovered(urls);
    },
    onError: (error) => {
      if (!failing) log.warn({ error: error instanceof Error ? error.message : String(error) }, 'discovery failed; keeping the nodes known so far');
      failing = true;
    },
  });
}
