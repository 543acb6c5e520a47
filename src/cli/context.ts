import { loadConfig, type Config } from '../config.js';
import type { EventStore } from '../eventStore/eventStore.js';
import { openEventStore } from '../eventStore/openEventStore.js';

/** Global options every command shares; each falls back to the environment (the README's names). */
export interface StoreOptions {
  eventStore?: string;
  dataDir?: string;
}

export function configFrom(options: StoreOptions & { redisUrl?: string; redisPrefix?: string }): Config {
  return loadConfig({
    ...process.env,
    ...(options.eventStore ? { EVENT_STORE: options.eventStore } : {}),
    ...(options.dataDir ? { DATA_DIR: options.dataDir } : {}),
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...(options.redisPrefix !== undefined ? { REDIS_PREFIX: options.redisPrefix } : {}),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
}

export function storeFrom(options: StoreOptions): EventStore {
  const config = configFrom(options);
  return openEventStore({ eventStore: config.EVENT_STORE, dataDir: config.DATA_DIR });
}

/** Reads every event of a stream in pages, so a long room never sits in memory whole. */
export async function* readWholeStream(store: EventStore, stream: string, fromRevision = 1, pageSize = 1_000) {
  for (let from = fromRevision; ; ) {
    const page = await store.readStream(stream, { fromRevision: from, limit: pageSize });
    yield* page;
    if (page.length < pageSize) return;
    from = page.at(-1)!.revision + 1;
  }
}
