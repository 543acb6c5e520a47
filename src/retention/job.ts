import type { Logger } from 'pino';
import type { EventStore } from '../eventStore/eventStore.js';
import { deleteOldEvents } from './deleteOldEvents.js';
import { cutoff, isActive, type RetentionPolicy } from './policy.js';
import type { RoomTrimmer } from './roomTrimmer.js';
import { createStreamMetadataRetention } from './streamMetadata.js';
import { retentionStrategyOf } from './strategy.js';

/**
 * Retention, as a periodic job on every node (each pass is idempotent, so several nodes running
 * it is fine). Each room's decision is first recorded in its own log (a HistoryTrimmed event, so
 * read models, subscribers and other nodes learn of it the way they learn of everything else);
 * then the store drops what it no longer keeps, in the way its capability allows (strategy.ts).
 * A store with neither capability keeps everything: the job says so once and does nothing.
 */
export function startRetention(options: {
  store: EventStore;
  trimmer: RoomTrimmer;
  /** Every room (private ones too): where the metadata strategy finds the rooms to look at. */
  roomIds: () => Promise<string[]>;
  policy: RetentionPolicy;
  log: Logger;
}) {
  const { trimmer, policy, log } = options;
  const strategy = retentionStrategyOf(options.store);
  // On a store keeping stream metadata the job also runs without a policy: a `$maxCount` another
  // node (or an earlier configuration) set stays in the stream until a job lifts it.
  const active = isActive(policy) || strategy.kind === 'streamMetadata';
  const pass: ((since: number) => Promise<number>) | null =
    strategy.kind === 'deleteOldEvents'
      ? (since) => deleteOldEvents({ store: strategy.store, trimmer, policy, since, log })
      : strategy.kind === 'streamMetadata'
        ? createStreamMetadataRetention({ store: strategy.store, trimmer, roomIds: options.roomIds, policy, log })
        : null;
  let running: Promise<number> | null = null;
  let warned = false;

  async function runOnce(): Promise<number> {
    if (!active) return 0;
    if (pass) return pass(cutoff(policy, Date.now()));
    if (!warned) log.warn('retention is configured but this event store cannot trim; nothing is removed');
    warned = true;
    return 0;
  }

  const tick = () => {
    running ??= runOnce()
      .catch((error) => {
        log.warn({ err: error }, 'retention run failed');
        return 0;
      })
      .finally(() => (running = null));
  };
  const timer = active ? setInterval(tick, policy.intervalMs) : null;
  timer?.unref();
  return {
    /** One pass now: what it removed (deleting: events deleted; stream metadata: rooms cut by age). */
    runOnce,
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
