import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisPresenceStore } from '../../src/presence/redisPresenceStore.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redisServer.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(stopAllRedis);

describe('Redis presence: connections that come online together', () => {
  it('are stored in one transaction, each room announced once, every connect resolved', async () => {
    const redis = new Redis(server.url);
    let transactions = 0;
    const multi = redis.multi.bind(redis) as () => ReturnType<Redis['multi']>;
    (redis as unknown as { multi: () => ReturnType<Redis['multi']> }).multi = () => (transactions++, multi());
    // The heartbeat (a transaction of its own) only at the start, not during the test.
    const store = createRedisPresenceStore({ redis, prefix: `t-${randomUUID()}:`, nodeId: 'n1', heartbeatMs: 60_000, nodeTtlMs: 180_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = transactions;
    const announced: string[] = [];
    store.onChange((roomId) => void announced.push(roomId));
    try {
      await Promise.all(Array.from({ length: 100 }, (_, i) => store.connect(i % 2 ? 'odd' : 'even', { id: `u${i}`, name: `n${i}` }, `c${i}`)));
      expect(transactions - before).toBe(1);
      expect(announced.sort()).toEqual(['even', 'odd']);
      expect((await store.snapshot('odd')).count).toBe(50);
      expect((await store.snapshot('even')).count).toBe(50);
      // A later connect is a transaction of its own, and a disconnect after it takes it away.
      await store.connect('odd', { id: 'late', name: 'late' }, 'c-late');
      expect(transactions - before).toBe(2);
      await store.disconnect('odd', 'late', 'c-late');
      expect((await store.snapshot('odd')).count).toBe(50);
    } finally {
      await store.close();
      redis.disconnect();
    }
  });

  it('are gathered for connectBatchMs, across turns of the event loop, into one transaction', async () => {
    const redis = new Redis(server.url);
    let transactions = 0;
    const multi = redis.multi.bind(redis) as () => ReturnType<Redis['multi']>;
    (redis as unknown as { multi: () => ReturnType<Redis['multi']> }).multi = () => (transactions++, multi());
    const store = createRedisPresenceStore({ redis, prefix: `t-${randomUUID()}:`, nodeId: 'n1', heartbeatMs: 60_000, nodeTtlMs: 180_000, connectBatchMs: 200 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = transactions;
    try {
      const connects: Array<Promise<void>> = [];
      // Three connects, each in a later turn of the event loop, all within the 200 ms.
      for (let i = 0; i < 3; i++) {
        connects.push(store.connect('r', { id: `u${i}`, name: `n${i}` }, `c${i}`));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(connects);
      expect(transactions - before).toBe(1);
      expect((await store.snapshot('r')).count).toBe(3);
    } finally {
      await store.close();
      redis.disconnect();
    }
  });
});
