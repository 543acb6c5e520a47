import type { Broker } from '../broker/broker.js';
import type { EventStore } from '../eventStore/eventStore.js';
import type { ReadModelStore } from '../readModels/readModelStore.js';
import type { Lease } from './lease.js';
import type { PositionWaiter } from './waitForPosition.js';

/** The holder announces each checkpoint it reaches: every node's `waitFor` resolves promptly. */
export const CHECKPOINT_CHANNEL = 'projections.checkpoint';
/** A node has a read waiting for a position the read models have not reached: the holder looks at the log now. */
export const WAKE_CHANNEL = 'projections.wake';

/**
 * What every part of one leased runner works on (leasedRunner.ts builds it from the options):
 * its settings, and its state whether it leads or follows.
 */
export interface LeasedRunner {
  store: EventStore;
  readModels: ReadModelStore;
  lease: Lease;
  broker: Broker;
  leaseIntervalMs: number;
  verifyIntervalMs: number;
  idleMs: number;
  pageSize: number;
  onError: (error: unknown) => void;
  onLeadership: ((leading: boolean) => void) | undefined;
  /** What this node knows the read models reach: applied here, or heard from the holder. */
  progress: PositionWaiter;
  leading: boolean;
  stopped: boolean;
  /** A read found the read models behind: the holder re-checks the stored checkpoint at once. */
  verifyNow: boolean;
  loop: Promise<void> | null;
  unsubscribe: Array<() => Promise<void>>;
  poll: NodeJS.Timeout | null;
  // The holder's idle pause, cut short when a read is waiting (here or, through WAKE_CHANNEL, on
  // another node): the read then waits for one batch, not for the rest of the pause.
  wakeUp: (() => void) | null;
  wakeSentAt: number;
}
