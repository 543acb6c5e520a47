import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { reportDroppedUnsubscribes } from '../../src/broker/redisBroker.js';

const unhandled: unknown[] = [];
const collect = (reason: unknown) => void unhandled.push(reason);
beforeEach(() => void process.on('unhandledRejection', collect));
afterEach(() => void process.off('unhandledRejection', collect));

it('an UNSUBSCRIBE the library drops is reported to onError, not left an unhandled rejection', async () => {
  const closed = new Error('Connection is closed.');
  const subscriber = { unsubscribe: async () => Promise.reject(closed), punsubscribe: async () => Promise.reject(closed) } as unknown as Redis;
  const reported: unknown[] = [];
  reportDroppedUnsubscribes(subscriber, (error) => reported.push(error));
  // What graphql-redis-subscriptions does: send both, keep neither promise.
  void subscriber.unsubscribe('room:1');
  void subscriber.punsubscribe('room:1');
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(reported).toEqual([closed, closed]);
  expect(unhandled).toEqual([]);
});
