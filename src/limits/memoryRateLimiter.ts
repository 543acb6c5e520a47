import { gcra } from './gcra.js';
import type { RateLimiter } from './rateLimiter.js';

/** Rate limits in this process's memory: ONE node only. A `limit` of 0 turns limiting off. */
export function createMemoryRateLimiter(options: { limit: number; windowMs: number }): RateLimiter {
  const { limit, windowMs } = options;
  const tats = new Map<string, number>();
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [key, tat] of tats) if (tat <= now) tats.delete(key);
  }, Math.max(windowMs, 1_000));
  sweep.unref();

  return {
    async consume(key, now = Date.now()) {
      if (limit <= 0) return { allowed: true, retryAfterMs: 0 };
      const decision = gcra(tats.get(key), now, limit, windowMs);
      if (decision.allowed) tats.set(key, decision.tat);
      return decision;
    },
    record(key, at) {
      if (limit <= 0 || at <= Date.now() - windowMs) return;
      // It happened: advance the state as if allowed, even past the burst (the limit may have changed).
      tats.set(key, Math.max(tats.get(key) ?? at, at) + windowMs / limit);
    },
    async close() {
      clearInterval(sweep);
    },
  };
}
