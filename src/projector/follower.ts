import type { Unsubscribe } from '../broker/broker.js';
import { CHECKPOINT_CHANNEL, type LeasedRunner } from './leasedRunnerState.js';

/**
 * Every node, holder or not, learns how far the read models are: from the holder's announcements,
 * and, since the broker may lose messages, from a slow poll of the stored checkpoint while some
 * read is waiting.
 */
export function followAnnouncements(runner: LeasedRunner): Promise<Unsubscribe> {
  return runner.broker.subscribe(CHECKPOINT_CHANNEL, (position) => runner.progress.advance(Number(position)));
}

/** Starts from the stored checkpoint, then polls it (every 100 ms) only while a read waits. */
export async function pollStoredCheckpoint(runner: LeasedRunner): Promise<void> {
  const { progress, readModels } = runner;
  progress.advance(await readModels.checkpoint());
  runner.poll = setInterval(() => {
    if (progress.waiting() > 0) readModels.checkpoint().then(progress.advance, runner.onError);
  }, 100);
  runner.poll.unref();
}

/** What the holder does after each batch: tells every node (the announcement followAnnouncements hears). */
export function announce(runner: LeasedRunner, checkpoint: number): void {
  void runner.broker.publish(CHECKPOINT_CHANNEL, checkpoint).catch(() => {});
}
