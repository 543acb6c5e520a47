import type { ChainableCommander, Redis } from 'ioredis';
import type { MessageView, RoomView } from '../../projections/views.js';
import { assertReaches, type MessageRange, type ReadAt } from './readModelStore.js';
import { parse, type ReadModelKeys } from './redisReadModelLayout.js';

/** What the queries work on: the part of the Redis read-model store's state that reads. */
export interface QueryState {
  /** Used for queries (never the writer, whose connection holds the apply's WATCH). */
  redis: Redis;
  key: ReadModelKeys;
}

export async function readRoom(state: QueryState, roomId: string, at: ReadAt | undefined): Promise<RoomView | null> {
  const [doc] = await docsAt(state, [state.key.room(roomId)], at);
  return parse<RoomView>(doc ?? null);
}

export async function readPublicRooms(state: QueryState, limit: number, at: ReadAt | undefined): Promise<RoomView[]> {
  const { redis, key } = state;
  const ids = await indexAt<string[]>(state, at, (tx) => tx.zrevrange(key.publicRooms, 0, limit - 1), () => redis.zrevrange(key.publicRooms, 0, limit - 1));
  const docs = await docsAt(state, ids.map(key.room), at);
  return docs.map((doc) => parse<RoomView>(doc)).filter((r): r is RoomView => r !== null);
}

export async function readMemberRooms(state: QueryState, userId: string, limit: number, at: ReadAt | undefined): Promise<RoomView[]> {
  const { redis, key } = state;
  const ids = await indexAt<string[]>(state, at, (tx) => tx.smembers(key.userRooms(userId)), () => redis.smembers(key.userRooms(userId)));
  const docs = await docsAt(state, ids.map(key.room), at);
  const rooms = docs.map((doc) => parse<RoomView>(doc)).filter((r): r is RoomView => r !== null);
  return rooms.sort((a, b) => b.lastActivityAt - a.lastActivityAt || b.createdAt - a.createdAt).slice(0, limit);
}

export async function readMessage(state: QueryState, messageId: string, at: ReadAt | undefined): Promise<MessageView | null> {
  const [doc] = await docsAt(state, [state.key.message(messageId)], at);
  return parse<MessageView>(doc ?? null);
}

export async function readMessages(state: QueryState, roomId: string, { before, after, limit }: MessageRange, at: ReadAt | undefined): Promise<MessageView[]> {
  const { redis } = state;
  const index = state.key.roomMessages(roomId);
  const upper = before === undefined ? '+inf' : `(${before}`;
  if (after !== undefined) {
    const lower = `(${after}`;
    const ids = await indexAt<string[]>(state, at, (tx) => tx.zrangebyscore(index, lower, upper, 'LIMIT', 0, limit), () => redis.zrangebyscore(index, lower, upper, 'LIMIT', 0, limit));
    return messagesByIds(state, ids, at);
  }
  const newestFirst = await indexAt<string[]>(
    state,
    at,
    (tx) => tx.zrevrangebyscore(index, upper, '-inf', 'LIMIT', 0, limit),
    () => redis.zrevrangebyscore(index, upper, '-inf', 'LIMIT', 0, limit),
  );
  return messagesByIds(state, newestFirst.reverse(), at);
}

/** MULTI/EXEC of read commands: their answers come from one moment, the checkpoint's included. */
async function atomically(state: QueryState, build: (tx: ChainableCommander) => ChainableCommander): Promise<unknown[]> {
  const result = await build(state.redis.multi()).exec();
  if (!result) throw new Error('read transaction aborted');
  const failed = result.find(([error]) => error);
  if (failed) throw failed[0];
  return result.map(([, value]) => value);
}

/** The documents at `keys`; given `at`, read with the checkpoint and checked against it. */
async function docsAt(state: QueryState, keys: string[], at: ReadAt | undefined): Promise<Array<string | null>> {
  if (keys.length === 0) return [];
  if (!at) return state.redis.mget(keys);
  const [checkpoint, docs] = await atomically(state, (tx) => tx.get(state.key.checkpoint).mget(keys));
  assertReaches(Number(checkpoint ?? 0), at);
  return docs as Array<string | null>;
}

/**
 * Runs `read` (index lookups) with the checkpoint in one MULTI when `at` is given, and checks it.
 * Paired with docsAt, a read is checked twice: when it picks the ids, and when it fetches the
 * documents, so a store emptied between the two (FLUSHALL) cannot yield a shorter answer.
 */
async function indexAt<T>(
  state: QueryState,
  at: ReadAt | undefined,
  read: (tx: ChainableCommander) => ChainableCommander,
  plain: () => Promise<T>,
): Promise<T> {
  if (!at) return plain();
  const [checkpoint, value] = await atomically(state, (tx) => read(tx.get(state.key.checkpoint)));
  assertReaches(Number(checkpoint ?? 0), at);
  return value as T;
}

async function messagesByIds(state: QueryState, ids: string[], at: ReadAt | undefined): Promise<MessageView[]> {
  const docs = await docsAt(state, ids.map(state.key.message), at);
  return docs.map((doc) => parse<MessageView>(doc)).filter((m): m is MessageView => m !== null);
}
