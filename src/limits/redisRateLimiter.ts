import type { Redis } from 'ioredis';
import type { RateLimiter } from './rateLimiter.js';

// GCRA (see gcra.ts) in one atomic script, on Redis's own clock so every node agrees on "now".
// The key expires when its state is back to idle, so idle users cost nothing.
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now > burst then return {0, tostring(tat - now - burst)} end
local nextTat = tat + interval
redis.call('SET', KEYS[1], tostring(nextTat), 'PX', math.max(1, math.ceil(nextTat - now)))
return {1, '0'}
`;

/**
 * Rate limits kept in Redis: shared by every node and kept across node restarts. A `limit` of 0
 * turns limiting off. If Redis does not answer, the action is allowed (failing open keeps chat
 * working through a Redis restart; the limit resumes as soon as Redis is back).
 */
export function createRedisRateLimiter(options: {
  redis: Redis;
  prefix: string;
  limit: number;
  windowMs: number;
  /** Keeps this limit's keys apart from other limits' (`rate:<namespace>:<key>`); none: `rate:<key>`. */
  namespace?: string;
  onError?: (e: unknown) => void;
}): RateLimiter {
  const { redis, prefix, limit, windowMs } = options;
  const keyPrefix = options.namespace ? `${prefix}rate:${options.namespace}:` : `${prefix}rate:`;
  const interval = windowMs / limit;
  const burst = windowMs - interval;
  return {
    async consume(key) {
      if (limit <= 0) return { allowed: true, retryAfterMs: 0 };
      try {
        const [allowed, retryAfter] = (await redis.eval(SCRIPT, 1, `${keyPrefix}${key}`, interval, burst)) as [number, string];
        return { allowed: allowed === 1, retryAfterMs: Number(retryAfter) };
      } catch (error) {
        options.onError?.(error);
        return { allowed: true, retryAfterMs: 0 };
      }
    },
    record() {
      // The state lives in Redis and survives restarts; nothing to rebuild.
    },
    async close() {},
  };
}
