/** Exponential backoff: how long to wait before reconnect attempt `attempt` (0 = the first). */
export interface BackoffOptions {
  /** The first delay's upper bound. */
  initialMs: number;
  /** No delay is longer than this. */
  maxMs: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 250, maxMs: 10_000 };

/**
 * "Equal jitter": half the exponential delay for sure, the other half at random, so that the
 * clients of a node that died do not all come back in the same millisecond, yet none retries
 * sooner than half its step.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = defaultBackoff, random: () => number = Math.random): number {
  const step = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
