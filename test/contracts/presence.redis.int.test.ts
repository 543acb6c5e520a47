import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisPresenceStore } from '../../src/presence/redisPresenceStore.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redisServer.js';
import { presenceContract } from './presence.contract.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(stopAllRedis);

presenceContract('redis', async () => {
  const redis = new Redis(server.url);
  const store = createRedisPresenceStore({ redis, prefix: `t-${randomUUID()}:`, nodeId: 'n1', typingTtlMs: 300 });
  return { store, cleanup: async () => (await store.close(), redis.disconnect()) };
});

describe('Redis presence across nodes', () => {
  it('takes the users of a node that stops heartbeating offline for everyone, and announces it', async () => {
    const prefix = `t-${randomUUID()}:`;
    const timing = { heartbeatMs: 100, nodeTtlMs: 400 };
    const redisA = new Redis(server.url);
    const redisB = new Redis(server.url);
    const a = createRedisPresenceStore({ redis: redisA, prefix, nodeId: 'a', ...timing });
    const b = createRedisPresenceStore({ redis: redisB, prefix, nodeId: 'b', ...timing });
    try {
      await a.connect('room', { id: 'u1', name: 'one' }, 'c1');
      await b.connect('room', { id: 'u2', name: 'two' }, 'c2');
      expect((await a.snapshot('room')).count).toBe(2);
      const changes: string[] = [];
      a.onChange((roomId) => changes.push(roomId));
      redisB.disconnect(); // node b "dies": no heartbeat, no cleanup
      const deadline = Date.now() + 3_000;
      while ((await a.snapshot('room')).count !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await a.snapshot('room')).toMatchObject({ count: 1, online: [{ id: 'u1' }] });
      expect(changes).toContain('room');
    } finally {
      await a.close();
      redisA.disconnect();
    }
  });
});
