import { join } from 'node:path';
import type { EventStore } from './eventStore.js';
import { lazyEventStore } from './lazyEventStore.js';
import { createMemoryEventStore } from './memoryEventStore.js';
import { isPostgresUrl } from './postgresSchema.js';
import { createSqliteEventStore } from './sqliteEventStore.js';

/** The event store EVENT_STORE names: `sqlite` (in DATA_DIR), `memory`, a `postgres://` or an `esdb://` URL. */
export function openEventStore(options: { eventStore: string; dataDir: string; onError?: (error: unknown) => void }): EventStore {
  if (options.eventStore === 'memory') return createMemoryEventStore();
  if (options.eventStore === 'sqlite') {
    // Several nodes may share the file. SQLite's own busy wait blocks the event loop, so keep it
    // short and let the adapter's jittered async retries do the waiting.
    return createSqliteEventStore({ file: join(options.dataDir, 'events.sqlite'), busyTimeoutMs: 50 });
  }
  if (isPostgresUrl(options.eventStore)) {
    return lazyEventStore(
      async () => (await import('./postgresEventStore.js')).createPostgresEventStore({ url: options.eventStore, onError: options.onError }),
      ['trimStream', 'retentionScan'],
    );
  }
  // Imported at first use: a node on another store never loads the EventStoreDB client and its gRPC stack.
  return lazyEventStore(
    async () => (await import('./esdbEventStore.js')).createEsdbEventStore({ connectionString: options.eventStore, onError: options.onError }),
    ['setStreamRetention', 'streamRetention'],
  );
}
