import type { Redis } from 'ioredis';
import { ReadModelsBehindError, ReadModelsUnavailableError, type ReadModelStore } from './readModelStore.js';
import { applyBatch, trackConnections, type ApplyState } from './redisReadModelApply.js';
import { readModelKeys } from './redisReadModelLayout.js';
import { readMemberRooms, readMessage, readMessages, readPublicRooms, readRoom, type QueryState } from './redisReadModelQueries.js';

export interface RedisReadModelOptions {
  /** Used for queries. */
  redis: Redis;
  /**
   * A connection of its own for `apply`: WATCH is per connection, so the writer must not share
   * one with anything else.
   */
  writer: Redis;
  prefix: string;
  /**
   * Fencing: when given, `apply` commits only while this key still holds this value (the
   * projector lease), checked atomically with the write. A projector that lost its lease while
   * paused can therefore never write over its successor.
   */
  fence?: () => { key: string; token: string } | null;
}

/** What every operation of one store works on: the writing side (apply) and the reading side. */
type RedisReadModel = ApplyState & QueryState;

/**
 * History and rooms in Redis, shared by every node: JSON documents per room and per message, a
 * sorted set of message ids per room (score = seq), a sorted set of public rooms by activity, and
 * the checkpoint — all written in ONE MULTI/EXEC per batch, so the views and the checkpoint never
 * disagree after a crash. Redis may lose all of it (a restart without persistence, FLUSHALL): the
 * checkpoint then reads 0, a batch written for the old checkpoint is refused (CheckpointMismatchError,
 * the projector rebuilds), and a read that must reflect a position fetches the checkpoint in the same
 * MULTI as its answer, so it can never pass an emptied store off as an empty history.
 *
 * The parts: redisReadModelLayout.ts (the keys), redisReadModelApply.ts (the fenced
 * compare-and-set transaction of `apply`), redisReadModelQueries.ts (the reads and their `at` check).
 */
export function createRedisReadModelStore(options: RedisReadModelOptions): ReadModelStore {
  const store: RedisReadModel = {
    redis: options.redis,
    writer: options.writer,
    key: readModelKeys(options.prefix),
    fence: options.fence,
    connection: 0,
  };
  trackConnections(store);

  return {
    apply: (events, applyOptions) => applyBatch(store, events, applyOptions),
    checkpoint: () => checkpoint(store),
    room: (roomId, at) => answered(readRoom(store, roomId, at)),
    roomIds: () => answered(store.redis.smembers(store.key.allRooms)),
    publicRooms: (limit, at) => answered(readPublicRooms(store, limit, at)),
    memberRooms: (userId, limit, at) => answered(readMemberRooms(store, userId, limit, at)),
    message: (messageId, at) => answered(readMessage(store, messageId, at)),
    messages: (roomId, range, at) => answered(readMessages(store, roomId, range, at)),
    clear: () => clear(store),
    close: async () => {},
  };
}

/**
 * A query's answer, or the port's ReadModelsUnavailableError when Redis did not give one
 * (down, restarting, timed out): the caller can tell "try again" from a bug without knowing
 * ioredis. ReadModelsBehindError is an answer ("not there yet") and passes as it is.
 */
async function answered<T>(query: Promise<T>): Promise<T> {
  try {
    return await query;
  } catch (error) {
    if (error instanceof ReadModelsBehindError) throw error;
    throw new ReadModelsUnavailableError(error);
  }
}

async function checkpoint(store: RedisReadModel): Promise<number> {
  return Number((await store.redis.get(store.key.checkpoint)) ?? 0);
}

async function clear(store: RedisReadModel): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await store.writer.scan(cursor, 'MATCH', store.key.everything, 'COUNT', 1_000);
    if (keys.length > 0) await store.writer.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
