import type { Redis } from 'ioredis';
import type { BackoffPolicy, FailureBackoff } from './failureBackoff.js';

// The same schedule as delayAfter (failureBackoff.ts), atomically and on Redis's clock so every
// node agrees. A key expires once its delay has passed and it has been quiet for forgetAfterMs.
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
const FAIL = `${NOW}
local free = tonumber(ARGV[1])
local base = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local forget = tonumber(ARGV[4])
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local delay = 0
if failures > free then delay = math.min(max, base * 2 ^ math.min(failures - free - 1, 62)) end
delay = math.floor(delay)
redis.call('HSET', KEYS[1], 'until', tostring(now + delay))
redis.call('PEXPIRE', KEYS[1], forget + delay)
return tostring(delay)
`;
const WAIT = `${NOW}
local untilAt = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if untilAt > now then return tostring(untilAt - now) end
return '0'
`;

/**
 * Failure delays kept in Redis: shared by every node and kept across node restarts. If Redis does
 * not answer, the attempt is allowed and the failure not counted (the same choice as the rate
 * limiter: chat keeps working through a Redis restart).
 */
export function createRedisFailureBackoff(options: {
  redis: Redis;
  prefix: string;
  /** Keeps this scope's keys apart (`failures:<namespace>:<key>`). */
  namespace: string;
  policy: BackoffPolicy;
  onError?: (e: unknown) => void;
}): FailureBackoff {
  const { redis, policy } = options;
  const keyOf = (key: string) => `${options.prefix}failures:${options.namespace}:${key}`;
  return {
    async wait(key) {
      try {
        return Number(await redis.eval(WAIT, 1, keyOf(key)));
      } catch (error) {
        options.onError?.(error);
        return 0;
      }
    },
    async fail(key) {
      try {
        await redis.eval(FAIL, 1, keyOf(key), policy.freeFailures, policy.baseDelayMs, policy.maxDelayMs, policy.forgetAfterMs);
      } catch (error) {
        options.onError?.(error);
      }
    },
    async close() {},
  };
}
