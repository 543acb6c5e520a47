import { delayAfter, type BackoffPolicy, type FailureBackoff } from './failureBackoff.js';

/**
 * Failure delays in this process's memory: ONE node only, and forgotten on restart (the log does
 * not record wrong passwords). The Redis adapter is shared by every node and survives restarts.
 */
export function createMemoryFailureBackoff(policy: BackoffPolicy): FailureBackoff {
  const entries = new Map<string, { failures: number; until: number; lastFailure: number }>();
  const current = (key: string, now: number) => {
    const entry = entries.get(key);
    if (entry && now - entry.lastFailure >= policy.forgetAfterMs + (entry.until - entry.lastFailure)) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const key of entries.keys()) current(key, now);
  }, Math.min(Math.max(policy.forgetAfterMs, 1_000), 60_000));
  sweep.unref();

  return {
    async wait(key) {
      const now = Date.now();
      const entry = current(key, now);
      return entry && entry.until > now ? entry.until - now : 0;
    },
    async fail(key) {
      const now = Date.now();
      const entry = current(key, now) ?? { failures: 0, until: now, lastFailure: now };
      entry.failures++;
      entry.lastFailure = now;
      entry.until = now + delayAfter(entry.failures, policy);
      entries.set(key, entry);
    },
    async close() {
      clearInterval(sweep);
    },
  };
}
