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

/** A presence store on its own Redis connection, counting the commands Redis runs for it. */
async function counted(options: { connectBatchMs?: number } = {}) {
  const redis = new Redis(server.url);
  const prefix = `t-${randomUUID()}:`;
  const store = createRedisPresenceStore({ redis, prefix, nodeId: 'n1', heartbeatMs: 60_000, nodeTtlMs: 180_000, ...options });
  // The heartbeat (a transaction of its own) only at the start, not during the test.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const stats = async () => {
    const text = String(await redis.info('commandstats'));
    const calls = (name: string) => Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { scripts: calls('eval'), hset: calls('hset'), multi: calls('multi') };
  };
  await redis.config('RESETSTAT');
  return { redis, prefix, store, stats, close: async () => (await store.close(), redis.disconnect()) };
}

describe('Redis presence: connections that come online together', () => {
  it('are stored by one script per room, each room announced once, every connect resolved', async () => {
    const { store, stats, close } = await counted();
    const announced: string[] = [];
    store.onChange((roomId) => void announced.push(roomId));
    try {
      await Promise.all(Array.from({ length: 100 }, (_, i) => store.connect(i % 2 ? 'odd' : 'even', { id: `u${i}`, name: `n${i}` }, `c${i}`)));
      expect(await stats()).toMatchObject({ scripts: 2, hset: 100, multi: 0 });
      expect(announced.sort()).toEqual(['even', 'odd']);
      expect((await store.snapshot('odd')).count).toBe(50);
      expect((await store.snapshot('even')).count).toBe(50);
      // A later connect is a script of its own, and a disconnect after it takes it away.
      await store.connect('odd', { id: 'late', name: 'late' }, 'c-late');
      expect((await stats()).scripts).toBe(3);
      await store.disconnect('odd', 'late', 'c-late');
      expect((await store.snapshot('odd')).count).toBe(50);
    } finally {
      await close();
    }
  });

  it('are gathered for connectBatchMs, across turns of the event loop', async () => {
    const { store, stats, close } = await counted({ connectBatchMs: 200 });
    try {
      const connects: Array<Promise<void>> = [];
      // Three connects, each in a later turn of the event loop, all within the 200 ms.
      for (let i = 0; i < 3; i++) {
        connects.push(store.connect('r', { id: `u${i}`, name: `n${i}` }, `c${i}`));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(connects);
      expect((await stats()).scripts).toBe(1);
      expect((await store.snapshot('r')).count).toBe(3);
    } finally {
      await close();
    }
  });

  it('a room whose script fails fails alone: the other rooms of the batch are stored and announced', async () => {
    const { redis, prefix, store, close } = await counted();
    const announced: string[] = [];
    store.onChange((roomId) => void announced.push(roomId));
    try {
      await redis.set(`${prefix}presence:room:broken:online`, 'not a hash');
      const broken = store.connect('broken', { id: 'a', name: 'A' }, 'c1');
      const fine = store.connect('fine', { id: 'b', name: 'B' }, 'c2');
      await expect(broken).rejects.toThrow(/WRONGTYPE/);
      await fine;
      expect(announced).toEqual(['fine']);
      expect((await store.snapshot('fine')).count).toBe(1);
    } finally {
      await close();
    }
  });

  it('close stores the connections still being gathered before it takes the node offline, leaving nothing behind', async () => {
    const { redis, prefix, store } = await counted({ connectBatchMs: 200 });
    const connected = store.connect('r', { id: 'a', name: 'A' }, 'c1');
    await store.close();
    await connected;
    // The batch's own timer has nothing left to store when it comes (it must not throw then).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await redis.keys(`${prefix}presence:room:*`)).toEqual([]);
    expect(await redis.smembers(`${prefix}presence:nodes`)).toEqual([]);
    redis.disconnect();
  });

  it('a batch that Redis refuses rejects every connect in it', async () => {
    const { redis, prefix, store, close } = await counted();
    try {
      // The room's online list is not a hash: the script's HSET fails.
      await redis.set(`${prefix}presence:room:broken:online`, 'not a hash');
      await expect(Promise.all([store.connect('broken', { id: 'a', name: 'A' }, 'c1'), store.connect('broken', { id: 'b', name: 'B' }, 'c2')])).rejects.toThrow(/WRONGTYPE/);
    } finally {
      await close();
    }
  });
});
