import { streamNameFilter, type EventStoreDBClient } from '@eventstore/db-client';
import type { AllSubscription, StoredEvent } from './eventStore.js';
import { esdbPosition, storedFrom } from './esdbMapping.js';

/** What onEvent threw, told apart from the transport's errors. */
class HandlerFailed {
  constructor(readonly error: unknown) {}
}

/**
 * subscribeToAll as the port means it, over an ESDB subscription that does neither half by itself:
 * - The transport failing (the server dropped the subscription, the connection reset, the server
 *   ended it) is not the consumer's business: this unsubscribes the old server subscription,
 *   waits (backing off up to 10 s; close() cuts the wait short) and subscribes again from the last
 *   position it delivered, never skipping and never repeating one. Reported to `onTransportError`
 *   (the store's log) only.
 * - `onEvent` throwing stops the subscription for good and goes to `onError`, once (the port).
 * Only our streams come through (a server-side prefix filter).
 */
export function resilientSubscription(options: {
  client: Pick<EventStoreDBClient, 'subscribeToAll'>;
  prefix: string;
  afterPosition: number;
  onEvent: (event: StoredEvent) => void | Promise<void>;
  onError: (error: unknown) => void;
  onTransportError: (error: unknown) => void;
  delayMs: number;
}): AllSubscription {
  let checkpoint = options.afterPosition;
  let closed = false;
  let current: { unsubscribe(): Promise<void> } | null = null;
  let wake: (() => void) | null = null;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (wake = null));

  const done = (async () => {
    let delay = options.delayMs;
    while (!closed) {
      const subscription = options.client.subscribeToAll({
        fromPosition: esdbPosition(checkpoint),
        filter: streamNameFilter({ prefixes: [options.prefix] }),
      });
      current = subscription;
      try {
        for await (const resolved of subscription) {
          if (closed) break;
          const stored = storedFrom(resolved);
          if (!stored || stored.position <= checkpoint) continue;
          try {
            await options.onEvent(stored);
          } catch (error) {
            throw new HandlerFailed(error);
          }
          checkpoint = stored.position;
          delay = options.delayMs;
        }
        if (closed) break;
        throw new Error('subscription ended by the server');
      } catch (error) {
        await subscription.unsubscribe().catch(() => {});
        if (closed) break;
        if (error instanceof HandlerFailed) {
          closed = true;
          options.onError(error.error);
          break;
        }
        options.onTransportError(error);
        await pause(delay);
        delay = Math.min(delay * 2, 10_000);
      }
    }
  })();
  return {
    async close() {
      closed = true;
      (wake as (() => void) | null)?.();
      await current?.unsubscribe().catch(() => {});
      await done;
    },
  };
}
