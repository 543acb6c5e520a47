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

describe('Redis presence: leaving', () => {
  const alice = { id: 'alice', name: 'Alice' };

  it("a disconnect never reads the room's list of who is online (a crowd leaving stays linear)", async () => {
    const redis = new Redis(server.url);
    const store = createRedisPresenceStore({ redis, prefix: `t-${randomUUID()}:`, nodeId: 'n1', heartbeatMs: 60_000 });
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.connect('crowd', { id: `u${i}`, name: `n${i}` }, `c${i}`)));
      await redis.config('RESETSTAT');
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.disconnect('crowd', `u${i}`, `c${i}`)));
      const stats = String(await redis.info('commandstats'));
      expect(stats).not.toMatch(/^cmdstat_(hvals|hgetall|hkeys|hscan):/m);
      expect((await store.snapshot('crowd')).count).toBe(0);
    } finally {
      await store.close();
      redis.disconnect();
    }
  });

  it('typing ends with the last connection on any node; a repeated disconnect counts once', async () => {
    const prefix = `t-${randomUUID()}:`;
    const [redisA, redisB] = [new Redis(server.url), new Redis(server.url)];
    const a = createRedisPresenceStore({ redis: redisA, prefix, nodeId: 'a', heartbeatMs: 60_000, typingTtlMs: 60_000 });
    const b = createRedisPresenceStore({ redis: redisB, prefix, nodeId: 'b', heartbeatMs: 60_000, typingTtlMs: 60_000 });
    try {
      await a.connect('room', alice, 'a1');
      await a.connect('room', alice, 'a2');
      await b.connect('room', alice, 'b1');
      await a.setTyping('room', alice, true);
      await a.disconnect('room', 'alice', 'a1');
      await a.disconnect('room', 'alice', 'a1');
      await a.disconnect('room', 'alice', 'a2');
      expect(await b.snapshot('room')).toMatchObject({ count: 1, typing: [{ id: 'alice' }] });
      await b.disconnect('room', 'alice', 'b1');
      expect(await b.snapshot('room')).toMatchObject({ count: 0, typing: [] });
      expect(await redisA.exists(`${prefix}presence:room:room:connections`)).toBe(0);
    } finally {
      await a.close();
      await b.close();
      redisA.disconnect();
      redisB.disconnect();
    }
  });

  it("a dead node's entries are counted out when it is reaped: the user's last connection elsewhere still ends their typing", async () => {
    const prefix = `t-${randomUUID()}:`;
    const timing = { heartbeatMs: 100, nodeTtlMs: 400, typingTtlMs: 60_000 };
    const [redisA, redisB] = [new Redis(server.url), new Redis(server.url)];
    const a = createRedisPresenceStore({ redis: redisA, prefix, nodeId: 'a', ...timing });
    const b = createRedisPresenceStore({ redis: redisB, prefix, nodeId: 'b', ...timing });
    try {
      await a.connect('room', alice, 'a1');
      await b.connect('room', alice, 'b1');
      await b.connect('room', { id: 'bob', name: 'Bob' }, 'b2');
      await a.setTyping('room', alice, true);
      redisB.disconnect(); // node b "dies": no heartbeat, no cleanup
      await expect.poll(async () => (await a.snapshot('room')).count, { timeout: 3_000 }).toBe(1);
      expect(await redisA.hgetall(`${prefix}presence:room:room:connections`)).toEqual({ alice: '1' });
      expect((await a.snapshot('room')).typing).toMatchObject([{ id: 'alice' }]);
      await a.disconnect('room', 'alice', 'a1');
      expect(await a.snapshot('room')).toMatchObject({ count: 0, typing: [] });
    } finally {
      await a.close();
      redisA.disconnect();
    }
  });
});
