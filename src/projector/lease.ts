import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A lease in Redis that at most one projector holds at a time. The holder renews it well within
 * its TTL; a holder that dies (or stalls past the TTL) loses it, and another node takes over
 * within about one TTL. Holding is only half of the story: every write also checks, atomically,
 * that the lease still carries this holder's token (fencing, see redisReadModelStore.ts), so a
 * paused ex-holder that wakes up cannot write.
 */
export interface Lease {
  /** Takes the lease if free; renews it if held. Resolves whether we hold it now. */
  acquireOrRenew(): Promise<boolean>;
  /** The key and our token while we believe we hold it. */
  current(): { key: string; token: string } | null;
  release(): Promise<void>;
}

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export function createRedisLease(options: { redis: Redis; key: string; holder: string; ttlMs: number }): Lease {
  const { redis, key, ttlMs } = options;
  // A fresh token per acquisition: a holder that lost the lease and took it back is a new holder.
  let token: string | null = null;
  return {
    async acquireOrRenew() {
      if (token) {
        const renewed = (await redis.eval(RENEW, 1, key, token, ttlMs)) === 1;
        if (renewed) return true;
        token = null;
      }
      const candidate = `${options.holder}:${randomBytes(8).toString('hex')}`;
      if ((await redis.set(key, candidate, 'PX', ttlMs, 'NX')) === 'OK') token = candidate;
      return token !== null;
    },
    current: () => (token ? { key, token } : null),
    async release() {
      if (token) await redis.eval(RELEASE, 1, key, token).catch(() => {});
      token = null;
    },
  };
}
