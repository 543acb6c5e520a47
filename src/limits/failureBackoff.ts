/**
 * Growing delays after failures (wrong passwords): a key may fail `freeFailures` times without
 * waiting; each failure after that makes it wait twice as long as the one before, from
 * `baseDelayMs` up to `maxDelayMs`. A key that has not failed for `forgetAfterMs` starts afresh.
 *
 * Unlike a rate limit, successes cost nothing: an honest user who mistypes twice never notices,
 * while a guesser soon waits minutes per guess. The delay after a failure is a pure function
 * (`delayAfter`), so the memory and Redis adapters decide alike.
 */
export interface BackoffPolicy {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  forgetAfterMs: number;
}

export interface FailureBackoff {
  /** How long `key` must wait before its next attempt (0: it may try now). */
  wait(key: string): Promise<number>;
  /** Counts a failure of `key`; from the free allowance on, its next attempt waits longer. */
  fail(key: string): Promise<void>;
  close(): Promise<void>;
}

/** The wait after a key's `failures`-th failure in a row. Pure. */
export function delayAfter(failures: number, policy: BackoffPolicy): number {
  if (failures <= policy.freeFailures) return 0;
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failures - policy.freeFailures - 1));
}

/** No delays at all (every limit off: RATE_LIMIT_MESSAGES=0). */
export const noFailureBackoff: FailureBackoff = {
  wait: async () => 0,
  fail: async () => {},
  close: async () => {},
};
