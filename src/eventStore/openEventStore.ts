import { join } from 'node:path';
import type { EventStore } from './eventStore.js';
import { createEsdbEventStore } from './esdbEventStore.js';
import { createMemoryEventStore } from './memoryEventStore.js';
import { createSqliteEventStore } from './sqliteEventStore.js';

/** The event store EVENT_STORE names: `sqlite` (in DATA_DIR), `memory`, or an `esdb://` URL. */
export function openEventStore(options: { eventStore: string; dataDir: string; onError?: (error: unknown) => void }): EventStore {
  if (options.eventStore === 'memory') return createMemoryEventStore();
  if (options.eventStore === 'sqlite') {
    // Several nodes may share the file. SQLite's own busy wait blocks the event loop, so keep it
    // short and let the adapter's jittered async retries do the waiting.
    return createSqliteEventStore({ file: join(options.dataDir, 'events.sqlite'), busyTimeoutMs: 50 });
  }
  return createEsdbEventStore({ connectionString: options.eventStore, onError: options.onError });
}
