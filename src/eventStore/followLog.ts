import type { AllSubscription, StoredEvent, SubscribeToAllOptions } from './eventStore.js';

/**
 * subscribeToAll for stores that can read "the next page after a position": catch-up and live
 * are ONE loop that delivers whatever the log holds past the last delivered position and then
 * sleeps until woken (an append by this instance) or, if `pollIntervalMs` is set, until the poll
 * (appends by other processes). There is no hand-over between a catch-up phase and a live phase,
 * so there is no seam at which an event could be skipped or repeated.
 */
export function followLog(
  options: SubscribeToAllOptions & {
    /** May answer at once (SQLite, memory) or later (PostgreSQL). */
    readAfter: (position: number, limit: number) => StoredEvent[] | Promise<StoredEvent[]>;
    pageSize: number;
    pollIntervalMs?: number;
    /** The store calls every registered waker after each append. */
    wakers: Set<() => void>;
    onClosed: (subscription: AllSubscription) => void;
  },
): AllSubscription {
  const { readAfter, pageSize, onEvent, onError, wakers } = options;
  let stopped = false;
  const signal = createSignal();
  wakers.add(signal.notify);

  const done = (async () => {
    try {
      let after = Math.max(0, options.afterPosition);
      while (!stopped) {
        signal.reset();
        const page = await readAfter(after, pageSize);
        for (const event of page) {
          if (stopped) return;
          await onEvent(event);
          after = event.position;
        }
        if (page.length < pageSize && !stopped) await signal.wait(options.pollIntervalMs);
      }
    } catch (error) {
      if (stopped) return;
      stopped = true;
      if (!onError) throw error; // surfaces as an unhandled rejection rather than a silent stall
      onError(error);
    } finally {
      wakers.delete(signal.notify);
    }
  })();

  const subscription: AllSubscription = {
    async close() {
      stopped = true;
      signal.notify();
      options.onClosed(subscription);
      await done.catch(() => undefined);
    },
  };
  return subscription;
}

/** A wake-up flag an append can set before the loop starts waiting, so no wake-up is lost. */
function createSignal() {
  let notified = false;
  let resolve: (() => void) | undefined;
  return {
    notify() {
      notified = true;
      resolve?.();
    },
    reset() {
      notified = false;
    },
    async wait(timeoutMs?: number) {
      if (notified) return;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => {
        resolve = r;
        if (timeoutMs !== undefined) timer = setTimeout(r, timeoutMs);
      });
      clearTimeout(timer);
      resolve = undefined;
    },
  };
}
