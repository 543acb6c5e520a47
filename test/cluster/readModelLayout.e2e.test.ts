/**
 * Upgrading over Redis read models built by an older version. Layout 1 had no member lists, so
 * a node of this version that trusted them answered myRooms with nothing (and renamed the user in
 * no room) until someone ran `cli rebuild`. Each layout now has its own keys and projector lease:
 * the new node builds its layout from the log beside the old one, which stays as it was for the
 * nodes of the older version still running.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { projectorLeaseKey, readModelKeys } from '../../src/readModels/redisReadModelLayout.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import { startRedis, stopAllRedis } from '../support/redisServer.js';
import { createRoom, createUser, eventually, gql, joinRoom } from '../support/gql.js';

// After-hooks run last-registered first: the nodes stop before their Redis does.
afterAll(stopAllRedis);
afterAll(stopAllInProcessNodes);

const PREFIX = 'roomlog:';
const MY_ROOMS = '{ myRooms { name } }';

/** Turns the current layout's keys into what layout 1 wrote: the same views under `rm:`, no member lists. */
async function downgradeToLayout1(redis: Redis): Promise<number> {
  const current = readModelKeys(PREFIX);
  const old = readModelKeys(PREFIX, 1);
  const keys = await redis.keys(current.everything);
  const root = current.everything.slice(0, -1);
  for (const key of keys) {
    if (/:members$|^.*:user:.*:rooms$/.test(key)) await redis.del(key);
    else await redis.rename(key, old.everything.slice(0, -1) + key.slice(root.length));
  }
  return keys.length;
}

describe('read models of an older layout in Redis', () => {
  it('a node of this version builds its own layout from the log: myRooms is complete, the old views are left alone', async () => {
    const redis = await startRedis();
    const env = { REDIS_URL: redis.url, RATE_LIMIT_MESSAGES: '0', JWT_SECRET: 'layout-test-secret-0123456789-abcdefghij' };
    const first = await startInProcessNode({ env });
    const ada = await createUser(first.url, 'ada');
    const bob = await createUser(first.url, 'bob');
    const lobby = await createRoom(first.url, bob.token, 'lobby');
    const secret = await createRoom(first.url, bob.token, 'secret', 'hunter2222');
    await joinRoom(first.url, ada.token, lobby.id);
    await joinRoom(first.url, ada.token, secret.id, 'hunter2222');
    expect((await gql<{ myRooms: { name: string }[] }>(first.url, MY_ROOMS, {}, ada.token)).myRooms.map((r) => r.name).sort()).toEqual(['lobby', 'secret']);
    const dataDir = first.dataDir;
    await first.stop();

    const client = new Redis(redis.url);
    try {
      expect(await downgradeToLayout1(client)).toBeGreaterThan(5);
      const oldCheckpoint = await client.get(readModelKeys(PREFIX, 1).checkpoint);
      expect(Number(oldCheckpoint)).toBeGreaterThan(0);
      // An older node could hold its lease meanwhile: it does not stop this layout's projector.
      await client.set(projectorLeaseKey(PREFIX, 1), 'old-node:token', 'PX', 60_000);

      const upgraded = await startInProcessNode({ env, dataDir });
      const names = await eventually(async () => {
        const { myRooms } = await gql<{ myRooms: { name: string }[] }>(upgraded.url, MY_ROOMS, {}, ada.token);
        return myRooms.length === 2 ? myRooms.map((r) => r.name).sort() : undefined;
      }, 20_000, 'myRooms lists both rooms on the upgraded node');
      expect(names).toEqual(['lobby', 'secret']);
      expect(await client.get(readModelKeys(PREFIX, 1).checkpoint)).toBe(oldCheckpoint);
      expect(await client.keys(`${PREFIX}rm:*:members`)).toEqual([]);
      expect(await upgraded.stop()).toBe(0);
    } finally {
      client.disconnect();
    }
  });
});
