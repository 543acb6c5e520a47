import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { SUBSCRIBER_OPTIONS, createRedisBroker } from '../../src/broker/redisBroker.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redisServer.js';
import { brokerContract } from './broker.contract.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(stopAllRedis);

brokerContract('redis', async () => {
  const prefix = `t-${randomUUID()}:`;
  const a = createRedisBroker({ url: redis.url, prefix });
  const b = createRedisBroker({ url: redis.url, prefix });
  return { a, b, cleanup: async () => void (await Promise.all([a.close(), b.close()])) };
});

describe('Redis broker through a Redis restart', () => {
  it('fails a publish at once while Redis is down, then reconnects, tells, and resubscribes', async () => {
    const prefix = `t-${randomUUID()}:`;
    const a = createRedisBroker({ url: redis.url, prefix });
    const b = createRedisBroker({ url: redis.url, prefix });
    try {
      let reconnects = 0;
      b.onReconnect(() => reconnects++);
      const got: unknown[] = [];
      await b.subscribe('room.r', (m) => got.push(m));
      await redis.kill();
      const started = Date.now();
      await expect(a.publish('room.r', 'lost')).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(2_000);
      await redis.restart();
      const deadline = Date.now() + 10_000;
      while ((reconnects === 0 || !(await a.ping())) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(reconnects).toBeGreaterThan(0);
      // Resubscription happens right after 'ready'; publish until one arrives.
      while (got.length === 0 && Date.now() < deadline) {
        await a.publish('room.r', 'after').catch(() => {});
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(got[0]).toBe('after');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('the Redis broker subscriber connection', () => {
  it('a SUBSCRIBE issued during the connection handshake does not break it (the node used to fail to start)', async () => {
    const subscriber = new Redis(redis.url, SUBSCRIBER_OPTIONS);
    const publisher = new Redis(redis.url);
    const errors: unknown[] = [];
    subscriber.on('error', (error) => errors.push(error));
    try {
      // 'connect' fires when the TCP connection is up and before the ready check: the moment a
      // broker subscribe can land in.
      await new Promise<void>((resolve) => subscriber.once('connect', () => void subscriber.subscribe('handshake').then(() => resolve(), () => resolve())));
      const received = new Promise<string>((resolve) => subscriber.once('message', (_channel, message) => resolve(message)));
      await publisher.publish('handshake', 'hello');
      expect(await received).toBe('hello');
      expect(errors).toEqual([]);
    } finally {
      subscriber.disconnect();
      publisher.disconnect();
    }
  });
});
