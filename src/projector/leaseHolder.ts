import { CheckpointMismatchError } from '../readModels/readModelStore.js';
import { applyNextPage, type AppliedBatch } from './applyPage.js';
import { announce } from './follower.js';
import type { LeasedRunner } from './leasedRunnerState.js';
import { resync, verifyCheckpoint } from './storedCheckpoint.js';
import { idle } from './wakeUps.js';

/** One term as the lease holder: where its read models are, and when it next renews and verifies. */
interface Term {
  checkpoint: number;
  renewAt: number;
  verifyAt: number;
}

/**
 * Applies the log as the lease holder, page by page, until the lease is lost (or the runner
 * stops): renews the lease, verifies the stored checkpoint, applies the next page, and pauses
 * when caught up. A FencedOutError from a batch ends the term too (the caller expects it).
 */
export async function lead(runner: LeasedRunner): Promise<void> {
  // What the store holds is where this holder starts, whatever this node heard before (from a
  // holder whose read models have since been lost, say): its progress starts there too.
  let checkpoint = await runner.readModels.checkpoint();
  checkpoint = checkpoint > 0 ? await resync(runner, checkpoint, checkpoint) : 0;
  runner.progress.rewind(checkpoint);
  const term: Term = { checkpoint, renewAt: Date.now() + runner.leaseIntervalMs, verifyAt: Date.now() + runner.verifyIntervalMs };
  while (!runner.stopped) {
    if (Date.now() >= term.renewAt) {
      if (!(await runner.lease.acquireOrRenew())) return;
      term.renewAt = Date.now() + runner.leaseIntervalMs;
    }
    if (runner.verifyNow || Date.now() >= term.verifyAt) {
      runner.verifyNow = false;
      term.verifyAt = Date.now() + runner.verifyIntervalMs;
      term.checkpoint = await verifyCheckpoint(runner, term.checkpoint);
    }
    const page = await applyAsHolder(runner, term);
    if (page && page.read < runner.pageSize) await idle(runner, runner.idleMs);
  }
}

/**
 * The next page of the log, applied onto the term's checkpoint and announced; null when the store
 * refused it for another checkpoint (the term then goes on from what the store holds).
 */
async function applyAsHolder(runner: LeasedRunner, term: Term): Promise<AppliedBatch | null> {
  let page;
  try {
    page = await applyNextPage(runner.store, runner.readModels, term.checkpoint, runner.pageSize);
  } catch (error) {
    if (!(error instanceof CheckpointMismatchError)) throw error;
    term.checkpoint = await resync(runner, term.checkpoint, error.stored);
    return null;
  }
  if (page.read > 0) {
    term.checkpoint = page.position;
    runner.progress.advance(term.checkpoint);
    announce(runner, term.checkpoint);
  }
  return page;
}
