import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisRateLimiter } from '../../src/limits/redisRateLimiter.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redisServer.js';
import { rateLimiterContract } from './rateLimiter.contract.js';

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
});
