/**
 * Explicit readiness signals for the end-to-end tests, instead of fixed sleeps: a bounded poll
 * (`waitFor`) and what a node says about itself on /metrics. A sleep is only right when the
 * passing of time is what a test is about (a rate-limit window, "nothing more arrives within
 * 300 ms"); everywhere else a test waits for the thing it needs, and fails saying which.
 */
import { eventually } from './gql.js';

/**
 * Polls `condition` every `intervalMs` (default 20) until it returns something other than
 * undefined/false, and resolves with that; rejects naming `label` after `timeoutMs`.
 */
export function waitFor<T>(condition: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, label = 'condition', intervalMs = 20): Promise<T> {
  return eventually(condition, timeoutMs, label, intervalMs);
}

/** The sum of every sample of one metric on a node's /metrics (0 if it has none yet). */
export async function metricValue(nodeUrl: string, name: string): Promise<number> {
  const response = await fetch(`${nodeUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  let sum = 0;
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(match[1]);
  return sum;
}

/**
 * A node's live subscriptions (`chat_subscriptions`: roomEvents, presence and notices) right now.
 * The gauge goes up only once a subscription is attached to the broker, so a notice or presence
 * change published after it has risen reaches the subscriber.
 */
export const liveSubscriptions = (nodeUrl: string): Promise<number> => metricValue(nodeUrl, 'chat_subscriptions');

/**
 * Resolves once the node holds at least `count` live subscriptions. Take the count before
 * subscribing (`await liveSubscriptions(url)`) and wait for count + 1 after.
 */
export async function waitForSubscriptions(nodeUrl: string, count: number, timeoutMs = 10_000): Promise<number> {
  let last = -1;
  try {
    return await waitFor(
      async () => {
        last = await liveSubscriptions(nodeUrl);
        return last >= count ? last : undefined;
      },
      timeoutMs,
      `${count} live subscriptions on ${nodeUrl}`,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message} (last seen: ${last})`);
  }
}
