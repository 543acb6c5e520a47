import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisFailureBackoff } from '../../src/limits/redisFailureBackoff.js';
import { createRedisRateLimiter } from '../../src/limits/redisRateLimiter.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redisServer.js';
import { failureBackoffContract, rateLimiterContract } from './rateLimiter.contract.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(stopAllRedis);

rateLimiterContract('redis', async () => {
  const redis = new Redis(server.url);
  const prefix = `t-${randomUUID()}:`;
  return {
    make: (limit, windowMs) => createRedisRateLimiter({ redis, prefix, limit, windowMs }),
    cleanup: async () => redis.disconnect(),
  };
});

failureBackoffContract('redis', async () => {
  const redis = new Redis(server.url);
  const prefix = `t-${randomUUID()}:`;
  return {
    make: (policy) => createRedisFailureBackoff({ redis, prefix, namespace: 'room', policy }),
    cleanup: async () => redis.disconnect(),
  };
});

describe('Redis rate limiter', () => {
  it('is one limit across nodes: two limiters on one Redis share the budget', async () => {
    const prefix = `t-${randomUUID()}:`;
    const one = new Redis(server.url);
    const two = new Redis(server.url);
    const a = createRedisRateLimiter({ redis: one, prefix, limit: 4, windowMs: 60_000 });
    const b = createRedisRateLimiter({ redis: two, prefix, limit: 4, windowMs: 60_000 });
    const allowed = [];
    for (let i = 0; i < 4; i++) allowed.push((await (i % 2 ? a : b).consume('u')).allowed);
    expect(allowed).toEqual([true, true, true, true]);
    expect((await a.consume('u')).allowed).toBe(false);
    expect((await b.consume('u')).allowed).toBe(false);
    one.disconnect();
    two.disconnect();
  });

  it('limits with their own namespace keep apart from each other and from the send limit', async () => {
    const prefix = `t-${randomUUID()}:`;
    const redis = new Redis(server.url);
    const send = createRedisRateLimiter({ redis, prefix, limit: 1, windowMs: 60_000 });
    const edit = createRedisRateLimiter({ redis, prefix, limit: 1, windowMs: 60_000, namespace: 'edit' });
    expect((await send.consume('u')).allowed).toBe(true);
    expect((await edit.consume('u')).allowed).toBe(true);
    expect((await send.consume('u')).allowed).toBe(false);
    expect((await edit.consume('u')).allowed).toBe(false);
    // The send limit keeps the key it always had.
    expect(await redis.exists(`${prefix}rate:u`, `${prefix}rate:edit:u`)).toBe(2);
    redis.disconnect();
  });
});
