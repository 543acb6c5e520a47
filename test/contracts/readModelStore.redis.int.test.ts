import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisLease } from '../../src/projector/lease.js';
import { FencedOutError, ReadModelsUnavailableError } from '../../src/readModels/readModelStore.js';
import { createRedisReadModelStore } from '../../src/readModels/redisReadModelStore.js';
import { freePort, startRedis, stopAllRedis, type RedisServer } from '../support/redisServer.js';
import { created, joined, alice, stored } from '../unit/fixtures.js';
import { readModelStoreContract } from './readModelStore.contract.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(stopAllRedis);

readModelStoreContract('redis', async () => {
  const prefix = `t-${randomUUID()}:`;
  const connections: Redis[] = [];
  const open = () => {
    const redis = new Redis(server.url);
    const writer = new Redis(server.url);
    connections.push(redis, writer);
    return createRedisReadModelStore({ redis, writer, prefix });
  };
  // What a Redis restart without persistence does to this prefix (FLUSHALL would touch the other tests').
  const lose = async () => {
    const admin = new Redis(server.url);
    connections.push(admin);
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  };
  return { store: open(), reopen: async () => open(), lose, cleanup: async () => connections.forEach((c) => c.disconnect()) };
});

describe('Redis read models with a projector lease', () => {
  it('lets only the lease holder write, and fences out a holder that lost the lease', async () => {
    const prefix = `t-${randomUUID()}:`;
    const connections = Array.from({ length: 4 }, () => new Redis(server.url));
    const [redisA, writerA, redisB, writerB] = connections as [Redis, Redis, Redis, Redis];
    const leaseA = createRedisLease({ redis: redisA, key: `${prefix}lease`, holder: 'a', ttlMs: 300 });
    const leaseB = createRedisLease({ redis: redisB, key: `${prefix}lease`, holder: 'b', ttlMs: 300 });
    const a = createRedisReadModelStore({ redis: redisA, writer: writerA, prefix, fence: () => leaseA.current() });
    const b = createRedisReadModelStore({ redis: redisB, writer: writerB, prefix, fence: () => leaseB.current() });
    try {
      expect(await leaseA.acquireOrRenew()).toBe(true);
      expect(await leaseB.acquireOrRenew()).toBe(false);
      await a.apply([stored(created('r'), 1, 1)]);
      await expect(b.apply([stored(joined('r', alice), 2, 2)])).rejects.toBeInstanceOf(FencedOutError);
      // A stalls past its TTL; B takes over; A wakes up still believing it holds the lease.
      await new Promise((r) => setTimeout(r, 400));
      expect(await leaseB.acquireOrRenew()).toBe(true);
      await expect(a.apply([stored(joined('r', alice), 2, 2)])).rejects.toBeInstanceOf(FencedOutError);
      await b.apply([stored(joined('r', alice), 2, 2)]);
      expect(await b.room('r')).toMatchObject({ headSeq: 2, memberCount: 1 });
      expect(await a.checkpoint()).toBe(2);
    } finally {
      connections.forEach((c) => c.disconnect());
    }
  });
});

describe('Redis read models whose Redis does not answer', () => {
  it('fail a read with ReadModelsUnavailableError (a port error the use cases answer as UNAVAILABLE), not a driver error', async () => {
    const port = await freePort();
    // What a node's query connection does while Redis is down: it gives up after its retries.
    const redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    redis.on('error', () => {});
    const store = createRedisReadModelStore({ redis, writer: redis, prefix: 'down:' });
    try {
      await expect(store.room('r', { atLeast: 1 })).rejects.toBeInstanceOf(ReadModelsUnavailableError);
      await expect(store.messages('r', { limit: 10 })).rejects.toBeInstanceOf(ReadModelsUnavailableError);
      await expect(store.publicRooms(10, { atLeast: 1 })).rejects.toBeInstanceOf(ReadModelsUnavailableError);
      await expect(store.message('m', { atLeast: 1 })).rejects.toBeInstanceOf(ReadModelsUnavailableError);
    } finally {
      redis.disconnect();
    }
  });
});
