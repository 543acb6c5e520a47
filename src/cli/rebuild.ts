import { SingleBar, Presets } from 'cli-progress';
import { Redis } from 'ioredis';
import type { EventStore } from '../eventStore/eventStore.js';
import { openEventStore } from '../eventStore/openEventStore.js';
import { createMemoryReadModelStore } from '../readModels/memoryReadModelStore.js';
import type { ReadModelStore } from '../readModels/readModelStore.js';
import { createRedisReadModelStore } from '../readModels/redisReadModelStore.js';
import { projectorLeaseKey } from '../readModels/redisReadModelLayout.js';
import { applyNextPage } from '../projector/applyPage.js';
import { createRedisLease } from '../projector/lease.js';
import { connectRedis } from '../redisConnection.js';
import { configFrom, type StoreOptions } from './context.js';

export interface RebuildReport {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  peakRssMb: number;
  target: string;
}

/**
 * Replays the whole log into empty read models, in pages. Pure plumbing; the CLI adds the bar.
 * `beforePage` runs between pages, never while one is being written (e.g. renewing a lease whose
 * key the writes are fenced on: touching it mid-write would abort the write).
 */
export async function rebuildInto(
  store: EventStore,
  readModels: ReadModelStore,
  options: { pageSize?: number; onProgress?: (position: number, events: number) => void; beforePage?: () => Promise<void> } = {},
): Promise<{ events: number; seconds: number; peakRss: number }> {
  const pageSize = options.pageSize ?? 5_000;
  const started = performance.now();
  let peakRss = process.memoryUsage.rss();
  await readModels.clear();
  let after = 0;
  let events = 0;
  for (;;) {
    await options.beforePage?.();
    const batch = await applyNextPage(store, readModels, after, pageSize);
    if (batch.read === 0) break;
    events += batch.read;
    after = batch.position;
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    options.onProgress?.(after, events);
    if (batch.read < pageSize) break;
  }
  return { events, seconds: (performance.now() - started) / 1000, peakRss };
}

/**
 * `rebuild`: with REDIS_URL, the shared read models under the prefix (take the projector lease
 * first, so no node applies events meanwhile: stop the nodes, or rebuild into a new --prefix and
 * point the nodes at it); without, in-memory read models (a check of the log and a measure of
 * the rebuild rate — a node does this itself at every start).
 */
export async function rebuild(
  options: StoreOptions & { redisUrl?: string; prefix?: string; quiet?: boolean; pageSize?: number; leaseRenewMs?: number },
): Promise<RebuildReport> {
  const config = configFrom({ ...options, redisPrefix: options.prefix });
  const store = openEventStore({ eventStore: config.EVENT_STORE, dataDir: config.DATA_DIR });
  const connections: Redis[] = [];
  try {
    let readModels: ReadModelStore;
    let target = 'memory';
    let beforePage: (() => Promise<void>) | undefined;
    if (config.REDIS_URL) {
      // Redis down: one line saying where and why, not ioredis's retries and their stacks.
      const redis = await connectRedis(config.REDIS_URL);
      connections.push(redis);
      const writer = await connectRedis(config.REDIS_URL);
      connections.push(writer);
      const lease = createRedisLease({ redis: writer, key: projectorLeaseKey(config.REDIS_PREFIX), holder: 'rebuild', ttlMs: 30_000 });
      if (!(await lease.acquireOrRenew())) {
        throw new Error(`a node runs the projections for prefix "${config.REDIS_PREFIX}": stop the nodes, or rebuild into another --prefix`);
      }
      // Renewed between pages (see rebuildInto), at most every leaseRenewMs: a page is written in
      // well under the 30 s TTL.
      let renewAt = Date.now() + (options.leaseRenewMs ?? 5_000);
      beforePage = async () => {
        if (Date.now() < renewAt) return;
        if (!(await lease.acquireOrRenew())) throw new Error('lost the projector lease during the rebuild');
        renewAt = Date.now() + (options.leaseRenewMs ?? 5_000);
      };
      readModels = createRedisReadModelStore({ redis, writer, prefix: config.REDIS_PREFIX, fence: () => lease.current() });
      target = `redis prefix "${config.REDIS_PREFIX}"`;
      connections.push({ disconnect: () => void lease.release() } as unknown as Redis);
    } else {
      readModels = createMemoryReadModelStore();
    }
    const head = await store.headPosition();
    const bar = options.quiet ? null : new SingleBar({ format: 'rebuild |{bar}| {percentage}% | {events} events | {rate} events/s', hideCursor: true }, Presets.shades_classic);
    bar?.start(Math.max(head, 1), 0, { events: 0, rate: 0 });
    const started = performance.now();
    const result = await rebuildInto(store, readModels, {
      pageSize: options.pageSize,
      beforePage,
      onProgress: (position, events) =>
        bar?.update(Math.min(position, head), { events, rate: Math.round(events / Math.max(0.001, (performance.now() - started) / 1000)) }),
    });
    bar?.stop();
    return {
      events: result.events,
      seconds: result.seconds,
      eventsPerSecond: Math.round(result.events / Math.max(result.seconds, 0.001)),
      peakRssMb: Math.round(result.peakRss / 1024 / 1024),
      target,
    };
  } finally {
    for (const connection of connections.reverse()) connection.disconnect();
    await store.close();
  }
}
