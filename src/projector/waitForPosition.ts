/**
 * The log position a runner has reached, and the callers waiting for it (read-your-writes: a
 * command waits until the read models include its own events before it answers). Both runners
 * keep one: the checkpointed runner advances it as it applies, the leased runner as it applies
 * or as it hears (broker, poll) that the lease holder did.
 */
export interface PositionWaiter {
  /** The highest position known to be applied, 0 before any. */
  current(): number;
  /** Records that everything up to `position` is applied; resolves the waiters it satisfies. Never moves back. */
  advance(position: number): void;
  /**
   * Moves back to `position` (the read models were cleared for a rebuild). Waiters stay pending
   * until the rebuild reaches them again.
   */
  rewind(position: number): void;
  /** Resolves once `position` is applied; rejects after `timeoutMs` so a stuck projector cannot hang a command. */
  waitFor(position: number, timeoutMs?: number): Promise<void>;
  /** How many callers are waiting (the leased runner polls the shared checkpoint only while some are). */
  waiting(): number;
}

/** `what` names the thing that lags in the timeout error (e.g. "projections", "read models"). */
export function createPositionWaiter(what: string): PositionWaiter {
  let reached = 0;
  const waiters = new Set<{ position: number; resolve: () => void }>();

  return {
    current: () => reached,
    advance(position) {
      if (position <= reached) return;
      reached = position;
      for (const waiter of waiters) {
        if (waiter.position <= reached) {
          waiters.delete(waiter);
          waiter.resolve();
        }
      }
    },
    rewind(position) {
      reached = Math.min(reached, position);
    },
    waitFor(position, timeoutMs = 5_000) {
      if (position <= reached) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const waiter = { position, resolve: () => (clearTimeout(timer), resolve()) };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${what} did not reach position ${position} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    waiting: () => waiters.size,
  };
}
