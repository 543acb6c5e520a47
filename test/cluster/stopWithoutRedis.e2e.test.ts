/**
 * A node whose Redis is gone (killed, partitioned) still stops cleanly. graphql-redis-subscriptions
 * drops the promises of its UNSUBSCRIBE commands, so every subscription the node closed on its way
 * down left an unhandled rejection ("Connection is closed"); in a test process that fails the run.
 */
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { createRoom, createUser, joinRoom } from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import { startRedis, stopAllRedis } from '../support/redisServer.js';

// After-hooks run last-registered first: the nodes stop before their Redis does.
afterAll(stopAllRedis);
afterAll(stopAllInProcessNodes);

const unhandled: unknown[] = [];
const collect = (reason: unknown) => void unhandled.push(reason);
beforeEach(() => void process.on('unhandledRejection', collect));
afterEach(() => void process.off('unhandledRejection', collect));

it('stops with exit code 0 and no unhandled rejection after its Redis was killed', async () => {
  const redis = await startRedis();
  const node = await startInProcessNode({ env: { REDIS_URL: redis.url, RATE_LIMIT_MESSAGES: '0' } });
  const ada = await createUser(node.url, 'ada');
  const bob = await createUser(node.url, 'bob');
  const room = await createRoom(node.url, ada.token, 'lobby');
  await joinRoom(node.url, bob.token, room.id);

  await redis.kill();
  // Once the node has seen Redis go (its readiness says so), the subscriber connection is closed.
  // A window in which the node's subscriber connection is down and trying again: the unsubscribes
  // of the stop are then queued on it and refused when it closes (the case that went unhandled).
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(await node.stop()).toBe(0);
  // Rejections are reported after the microtasks that could still handle them.
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(unhandled.map(String)).toEqual([]);
});
