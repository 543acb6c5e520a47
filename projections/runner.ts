import type { AllSubscription, EventStore } from '../src/eventStore/eventStore.js';
import type { RoomEvent } from '../src/domain/events.js';
import { toRoomEvent } from '../src/domain/fromStored.js';
import type { ReadModelStore } from '../src/readModels/readModelStore.js';

export interface ProjectionRunnerOptions {
  store: EventStore;
  readModels: ReadModelStore;
  /**
   * Also called with every applied batch; `replayed` is true for what was already in the log when
   * the runner started (e.g. to rebuild rate-limit state from past sends, and only from those).
   */
  onApplied?: (events: RoomEvent[], replayed: boolean) => void;
  /** Events per read while catching up. */
  pageSize?: number;
}

export interface CatchUpReport {
  events: number;
  ms: number;
  position: number;
}

export interface ProjectionRunner {
  /** Replays the log from the read models' checkpoint to the head, then follows it live. */
  start(onProgress?: (applied: number, head: number) => void): Promise<CatchUpReport>;
  /** Resolves once everything up to `position` is applied (read-your-writes after a command). */
  waitFor(position: number, timeoutMs?: number): Promise<void>;
  position(): number;
  close(): Promise<void>;
}

/**
 * Feeds the log to the read models: a paged catch-up from the stored checkpoint (fast, no
 * per-event awaits on the store), then a live `subscribeToAll` from where the catch-up ended.
 * The checkpoint lives in the read-model store itself, written with the views, so a restart
 * resumes exactly after the last applied event.
 */
export function createProjectionRunner(options: ProjectionRunnerOptions): ProjectionRunner {
  const { store, readModels, onApplied, pageSize = 5_000 } = options;
  let applied = 0;
  let subscription: AllSubscription | null = null;
  const waiters = new Set<{ position: number; resolve: () => void }>();

  async function applyBatch(stored: Parameters<typeof toRoomEvent>[0][], replayed: boolean): Promise<void> {
    const events: RoomEvent[] = [];
    for (const event of stored) {
      const roomEvent = toRoomEvent(event);
      if (roomEvent) events.push(roomEvent);
    }
    if (events.length > 0) {
      await readModels.apply(events);
      onApplied?.(events, replayed);
    }
    const last = stored.at(-1);
    if (last) advance(last.position);
  }

  function advance(position: number): void {
    applied = Math.max(applied, position);
    for (const waiter of waiters) {
      if (waiter.position <= applied) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  return {
    async start(onProgress) {
      const started = performance.now();
      applied = await readModels.checkpoint();
      const from = applied;
      const head = await store.headPosition();
      let count = 0;
      for (;;) {
        const page = await store.readAll({ afterPosition: applied, limit: pageSize });
        if (page.length === 0) break;
        await applyBatch(page, true);
        count += page.length;
        onProgress?.(count, head - from);
        if (page.length < pageSize) break;
      }
      const report = { events: count, ms: performance.now() - started, position: applied };
      subscription = store.subscribeToAll({
        afterPosition: applied,
        onEvent: (event) => applyBatch([event], false),
      });
      return report;
    },
    waitFor(position, timeoutMs = 5_000) {
      if (position <= applied) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const waiter = { position, resolve: () => (clearTimeout(timer), resolve()) };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`projections did not reach position ${position} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    position: () => applied,
    async close() {
      await subscription?.close();
      subscription = null;
    },
  };
}
