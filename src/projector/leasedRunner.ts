import type { Broker } from '../broker/broker.js';
import type { EventStore } from '../eventStore/eventStore.js';
import { FencedOutError, type ReadModelStore } from '../readModels/readModelStore.js';
import { followAnnouncements, pollStoredCheckpoint } from './follower.js';
import type { Lease } from './lease.js';
import { lead } from './leaseHolder.js';
import type { LeasedRunner } from './leasedRunnerState.js';
import type { CatchUpReport, ProjectionRunner } from './runner.js';
import { createPositionWaiter } from './waitForPosition.js';
import { listenForWakeUps, wake } from './wakeUps.js';

export { CHECKPOINT_CHANNEL, WAKE_CHANNEL } from './leasedRunnerState.js';

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
 *
 * The parts: leaseHolder.ts (applying as the holder), storedCheckpoint.ts (verifying what the store
 * holds), follower.ts (following the holder's progress), wakeUps.ts (cutting the holder's pause short).
 */
export function createLeasedProjectionRunner(options: LeasedRunnerOptions): ProjectionRunner {
  const leaseIntervalMs = options.leaseIntervalMs ?? 1_000;
  const runner: LeasedRunner = {
    store: options.store,
    readModels: options.readModels,
    lease: options.lease,
    broker: options.broker,
    leaseIntervalMs,
    verifyIntervalMs: options.verifyIntervalMs ?? leaseIntervalMs,
    idleMs: options.idleMs ?? 10,
    pageSize: options.pageSize ?? 1_000,
    onError: options.onError ?? (() => {}),
    onLeadership: options.onLeadership,
    progress: createPositionWaiter('read models'),
    leading: false,
    stopped: false,
    verifyNow: false,
    loop: null,
    unsubscribe: [],
    poll: null,
    wakeUp: null,
    wakeSentAt: 0,
  };

  return {
    start: () => start(runner),
    waitFor(position, timeoutMs) {
      if (position > runner.progress.current()) wake(runner);
      return runner.progress.waitFor(position, timeoutMs);
    },
    rewind(position) {
      runner.progress.rewind(position);
      runner.verifyNow = true;
    },
    position: runner.progress.current,
    close: () => close(runner),
  };
}

async function start(runner: LeasedRunner): Promise<CatchUpReport> {
  runner.unsubscribe = [await followAnnouncements(runner), await listenForWakeUps(runner)];
  await pollStoredCheckpoint(runner);
  runner.loop = run(runner);
  return { events: 0, ms: 0, position: runner.progress.current() };
}

/** Every node: try to take the lease; lead while it holds it; otherwise try again a bit later. */
async function run(runner: LeasedRunner): Promise<void> {
  while (!runner.stopped) {
    try {
      if (await runner.lease.acquireOrRenew()) {
        setLeading(runner, true);
        await lead(runner);
      }
    } catch (error) {
      if (!(error instanceof FencedOutError)) runner.onError(error);
    }
    setLeading(runner, false);
    if (!runner.stopped) await sleep(runner.leaseIntervalMs);
  }
}

function setLeading(runner: LeasedRunner, now: boolean): void {
  if (now !== runner.leading) runner.onLeadership?.(now);
  runner.leading = now;
}

async function close(runner: LeasedRunner): Promise<void> {
  runner.stopped = true;
  if (runner.poll) clearInterval(runner.poll);
  await runner.loop;
  await Promise.all(runner.unsubscribe.map((stop) => stop()));
  await runner.lease.release();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
