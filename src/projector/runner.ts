import type { AllSubscription, EventStore } from '../eventStore/eventStore.js';
import type { RoomEvent } from '../domain/events.js';
import type { ReadModelStore } from '../readModels/readModelStore.js';
import { applyNextPage, applyStored, type AppliedBatch } from './applyPage.js';
import { createPositionWaiter } from './waitForPosition.js';

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
  /** Resolves once everything up to `position` is applied (read-your-writes); rejects after `timeoutMs`. */
  waitFor(position: number, timeoutMs?: number): Promise<void>;
  /**
   * A read found the read models at `position`, below what this runner believed: forget anything
   * higher (heard from the lease holder before the store was emptied, say), so `waitFor` waits
   * for the projector to really get there; a lease holder also re-checks its checkpoint at once.
   */
  rewind(position: number): void;
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
  const progress = createPositionWaiter('projections');
  // Where the read models are (what the next batch is applied after); `progress` may be rewound
  // by a read, this never is.
  let applied = 0;
  let subscription: AllSubscription | null = null;

  // Catch-up pages and live events end the same way; only `replayed` tells them apart.
  function settle(batch: AppliedBatch, replayed: boolean): void {
    if (batch.events.length > 0) onApplied?.(batch.events, replayed);
    applied = batch.position;
    progress.advance(batch.position);
  }

  return {
    async start(onProgress) {
      const started = performance.now();
      applied = await readModels.checkpoint();
      progress.advance(applied);
      const from = applied;
      const head = await store.headPosition();
      let count = 0;
      for (;;) {
        const page = await applyNextPage(store, readModels, applied, pageSize);
        if (page.read === 0) break;
        settle(page, true);
        count += page.read;
        onProgress?.(count, head - from);
        if (page.read < pageSize) break;
      }
      const report = { events: count, ms: performance.now() - started, position: applied };
      subscription = store.subscribeToAll({
        afterPosition: applied,
        onEvent: async (event) => settle(await applyStored(readModels, [event], applied), false),
      });
      return report;
    },
    waitFor: progress.waitFor,
    rewind: progress.rewind,
    position: progress.current,
    async close() {
      await subscription?.close();
      subscription = null;
    },
  };
}
