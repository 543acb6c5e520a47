import type { Broker } from '../broker/broker.js';
import type { EventStore } from '../eventStore/eventStore.js';
import { FencedOutError, type ReadModelStore } from '../readModels/readModelStore.js';
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
  /** While leading and caught up, look for new events this often. */
  idleMs?: number;
  pageSize?: number;
  onError?: (error: unknown) => void;
  onLeadership?: (leading: boolean) => void;
}

export const CHECKPOINT_CHANNEL = 'projections.checkpoint';

/**
 * Projections for a cluster: every node runs this, exactly one (the lease holder) applies the log
 * to the shared read models, from the checkpoint stored WITH them, in pages; each batch is one
 * fenced transaction. A node that starts later serves at once: the read models are already there.
 * The holder announces each new checkpoint on the broker so every node's `waitFor` resolves
 * promptly (with a slow poll as the fallback, since the broker may lose messages).
 */
export function createLeasedProjectionRunner(options: LeasedRunnerOptions): ProjectionRunner {
  const { store, readModels, lease, broker, leaseIntervalMs = 1_000, idleMs = 10, pageSize = 1_000 } = options;
  const onError = options.onError ?? (() => {});
  const progress = createPositionWaiter('read models');
  let leading = false;
  let stopped = false;
  let loop: Promise<void> | null = null;
  let unsubscribe: (() => Promise<void>) | null = null;
  let poll: NodeJS.Timeout | null = null;

  async function lead(): Promise<void> {
    let checkpoint = await readModels.checkpoint();
    const head = await store.headPosition();
    if (checkpoint > head) {
      // The read models are ahead of the log: they were built from another event store (a new
      // DATA_DIR against an old Redis, say). Serving them would be wrong; rebuild from the start.
      onError(new Error(`read models at position ${checkpoint} but the log ends at ${head}: rebuilding them from the log`));
      await readModels.clear();
      checkpoint = 0;
      progress.rewind(0);
    }
    let renewAt = Date.now() + leaseIntervalMs;
    while (!stopped) {
      if (Date.now() >= renewAt) {
        if (!(await lease.acquireOrRenew())) return;
        renewAt = Date.now() + leaseIntervalMs;
      }
      const page = await applyNextPage(store, readModels, checkpoint, pageSize);
      if (page.read > 0) {
        checkpoint = page.position;
        progress.advance(checkpoint);
        void broker.publish(CHECKPOINT_CHANNEL, checkpoint).catch(() => {});
      }
      if (page.read < pageSize) await sleep(idleMs);
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
      unsubscribe = await broker.subscribe(CHECKPOINT_CHANNEL, (position) => progress.advance(Number(position)));
      progress.advance(await readModels.checkpoint());
      poll = setInterval(() => {
        if (progress.waiting() > 0) readModels.checkpoint().then(progress.advance, onError);
      }, 100);
      poll.unref();
      loop = run();
      return { events: 0, ms: 0, position: progress.current() };
    },
    waitFor: progress.waitFor,
    position: progress.current,
    async close() {
      stopped = true;
      if (poll) clearInterval(poll);
      await loop;
      await unsubscribe?.();
      await lease.release();
    },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
