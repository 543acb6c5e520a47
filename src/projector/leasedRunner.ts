import type { Broker } from '../broker/broker.js';
import type { EventStore } from '../eventStore/eventStore.js';
import { CheckpointMismatchError, FencedOutError, type ReadModelStore } from '../readModels/readModelStore.js';
import { applyNextPage } from './applyPage.js';
import type { Lease } from './lease.js';
import type { CatchUpReport, ProjectionRunner } from './runner.js';
import { createPositionWaiter } from './waitForPosition.js';

export interface LeasedRunnerOptions {
  store: EventStore;
  /** Shared read models whose `apply` is fenced by `lease`. */
  readModels: ReadModelStore;
  lease: Lease;
  broker: Broker;
  /** Renew (or try to take) the lease this often; keep it well under the lease TTL. */
  leaseIntervalMs?: number;
  /**
   * While leading, also check this often that the stored checkpoint is still the one this node
   * wrote (default: leaseIntervalMs): an idle log has no next batch to find out that Redis lost
   * the read models. A read that finds them behind asks for a check at once (`rewind`).
   */
  verifyIntervalMs?: number;
  /** While leading and caught up, look for new events this often. */
  idleMs?: number;
  pageSize?: number;
  onError?: (error: unknown) => void;
  onLeadership?: (leading: boolean) => void;
}

export const CHECKPOINT_CHANNEL = 'projections.checkpoint';
/** A node has a read waiting for a position the read models have not reached: the holder looks at the log now. */
export const WAKE_CHANNEL = 'projections.wake';

/**
 * Projections for a cluster: every node runs this, exactly one (the lease holder) applies the log
 * to the shared read models, from the checkpoint stored WITH them, in pages; each batch is one
 * fenced transaction. A node that starts later serves at once: the read models are already there.
 * The holder announces each new checkpoint on the broker so every node's `waitFor` resolves
 * promptly (with a slow poll as the fallback, since the broker may lose messages).
 *
 * Redis may lose the read models under a running holder (a restart without persistence, FLUSHALL,
 * a failover to an empty replica). Each batch is applied only onto the checkpoint the holder left
 * (CheckpointMismatchError otherwise), and the holder re-reads the stored checkpoint every
 * `verifyIntervalMs`; a checkpoint that is not its own makes it resume from what the store holds:
 * from the start (a rebuild) when that is nothing. Reads meanwhile wait for, or refuse, views
 * behind the log (src/chat/queries/freshReads.ts): they never serve the emptied store as the truth.
 */
export function createLeasedProjectionRunner(options: LeasedRunnerOptions): ProjectionRunner {
  const { store, readModels, lease, broker, leaseIntervalMs = 1_000, idleMs = 10, pageSize = 1_000 } = options;
  const verifyIntervalMs = options.verifyIntervalMs ?? leaseIntervalMs;
  const onError = options.onError ?? (() => {});
  const progress = createPositionWaiter('read models');
  let leading = false;
  let stopped = false;
  let verifyNow = false;
  let loop: Promise<void> | null = null;
  let unsubscribe: Array<() => Promise<void>> = [];
  let poll: NodeJS.Timeout | null = null;
  // The holder's idle pause, cut short when a read is waiting (here or, through WAKE_CHANNEL, on
  // another node): the read then waits for one batch, not for the rest of the pause.
  let wakeUp: (() => void) | null = null;
  let wakeSentAt = 0;

  function idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      }
      wakeUp = done;
    });
  }

  /** A read waits for the read models: wake the holder, at most one message per idle pause. */
  function wake(): void {
    if (leading) return wakeUp?.();
    const now = Date.now();
    if (now - wakeSentAt < idleMs) return;
    wakeSentAt = now;
    void broker.publish(WAKE_CHANNEL, 1).catch(() => {});
  }

  /**
   * Where to go on when the stored checkpoint is `stored`, not the `expected` this holder left:
   * from `stored` if the store is a consistent copy of an earlier state (views and checkpoint are
   * written together), from 0 after clearing it if it holds nothing or is ahead of the log.
   */
  async function resync(expected: number, stored: number): Promise<number> {
    const head = await store.headPosition();
    if (stored > head || (stored === 0 && expected > 0)) {
      onError(
        new Error(
          stored > head
            ? `read models at position ${stored} but the log ends at ${head}: rebuilding them from the log`
            : `read models lost (checkpoint ${expected} gone: Redis restarted empty or was flushed): rebuilding them from the log`,
        ),
      );
      // A store that lost its checkpoint may keep stray views (a key evicted alone): start clean.
      await readModels.clear();
      progress.rewind(0);
      return 0;
    }
    if (stored !== expected) {
      onError(new Error(`read models at position ${stored}, not ${expected} (an older copy of them?): resuming from ${stored}`));
      progress.rewind(stored);
    }
    return stored;
  }

  async function lead(): Promise<void> {
    // What the store holds is where this holder starts, whatever this node heard before (from a
    // holder whose read models have since been lost, say): its progress starts there too.
    let checkpoint = await readModels.checkpoint();
    checkpoint = checkpoint > 0 ? await resync(checkpoint, checkpoint) : 0;
    progress.rewind(checkpoint);
    let renewAt = Date.now() + leaseIntervalMs;
    let verifyAt = Date.now() + verifyIntervalMs;
    while (!stopped) {
      if (Date.now() >= renewAt) {
        if (!(await lease.acquireOrRenew())) return;
        renewAt = Date.now() + leaseIntervalMs;
      }
      if (verifyNow || Date.now() >= verifyAt) {
        // Only the holder writes, so the stored checkpoint is ours unless the store lost or
        // replaced its data (an idle log has no next batch to tell).
        verifyNow = false;
        verifyAt = Date.now() + verifyIntervalMs;
        const stored = await readModels.checkpoint();
        if (stored !== checkpoint) checkpoint = await resync(checkpoint, stored);
        // Verified: a read's rewind (it raced this holder's last batch) is undone at once.
        progress.advance(checkpoint);
      }
      let page;
      try {
        page = await applyNextPage(store, readModels, checkpoint, pageSize);
      } catch (error) {
        if (!(error instanceof CheckpointMismatchError)) throw error;
        checkpoint = await resync(checkpoint, error.stored);
        continue;
      }
      if (page.read > 0) {
        checkpoint = page.position;
        progress.advance(checkpoint);
        void broker.publish(CHECKPOINT_CHANNEL, checkpoint).catch(() => {});
      }
      if (page.read < pageSize) await idle(idleMs);
    }
  }

  async function run(): Promise<void> {
    while (!stopped) {
      try {
        if (await lease.acquireOrRenew()) {
          setLeading(true);
          await lead();
        }
      } catch (error) {
        if (!(error instanceof FencedOutError)) onError(error);
      }
      setLeading(false);
      if (!stopped) await sleep(leaseIntervalMs);
    }
  }

  function setLeading(now: boolean): void {
    if (now !== leading) options.onLeadership?.(now);
    leading = now;
  }

  return {
    async start(): Promise<CatchUpReport> {
      unsubscribe = [
        await broker.subscribe(CHECKPOINT_CHANNEL, (position) => progress.advance(Number(position))),
        await broker.subscribe(WAKE_CHANNEL, () => wakeUp?.()),
      ];
      progress.advance(await readModels.checkpoint());
      poll = setInterval(() => {
        if (progress.waiting() > 0) readModels.checkpoint().then(progress.advance, onError);
      }, 100);
      poll.unref();
      loop = run();
      return { events: 0, ms: 0, position: progress.current() };
    },
    waitFor(position, timeoutMs) {
      if (position > progress.current()) wake();
      return progress.waitFor(position, timeoutMs);
    },
    rewind(position) {
      progress.rewind(position);
      verifyNow = true;
    },
    position: progress.current,
    async close() {
      stopped = true;
      if (poll) clearInterval(poll);
      await loop;
      await Promise.all(unsubscribe.map((stop) => stop()));
      await lease.release();
    },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
