import type { LeasedRunner } from './leasedRunnerState.js';

/**
 * The holder's periodic (or, after a read's `rewind`, immediate) check of the stored checkpoint.
 * Only the holder writes, so the stored checkpoint is ours unless the store lost or replaced its
 * data (an idle log has no next batch to tell). Resolves where to go on from.
 */
export async function verifyCheckpoint(runner: LeasedRunner, checkpoint: number): Promise<number> {
  const stored = await runner.readModels.checkpoint();
  if (stored !== checkpoint) checkpoint = await resync(runner, checkpoint, stored);
  // Verified: a read's rewind (it raced this holder's last batch) is undone at once.
  runner.progress.advance(checkpoint);
  return checkpoint;
}

/**
 * Where to go on when the stored checkpoint is `stored`, not the `expected` this holder left:
 * from `stored` if the store is a consistent copy of an earlier state (views and checkpoint are
 * written together), from 0 after clearing it if it holds nothing or is ahead of the log.
 */
export async function resync(runner: LeasedRunner, expected: number, stored: number): Promise<number> {
  const { readModels, progress, onError } = runner;
  const head = await runner.store.headPosition();
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
