import type { ChainableCommander, Redis } from 'ioredis';
import type { RoomEvent } from '../domain/events.js';
import { historyKey, projectMessage, trimmedBefore } from '../../projections/history.js';
import { projectRoom } from '../../projections/rooms.js';
import type { MessageView, RoomView } from '../../projections/views.js';
import { assertReaches, CheckpointMismatchError, FencedOutError, type MessageRange, type ReadAt, type ReadModelStore } from './readModelStore.js';

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

/**
 * History and rooms in Redis, shared by every node: JSON documents per room and per message, a
 * sorted set of message ids per room (score = seq), a sorted set of public rooms by activity, and
 * the checkpoint — all written in ONE MULTI/EXEC per batch, so the views and the checkpoint never
 * disagree after a crash. Redis may lose all of it (a restart without persistence, FLUSHALL): the
 * checkpoint then reads 0, a batch written for the old checkpoint is refused (CheckpointMismatchError,
 * the projector rebuilds), and a read that must reflect a position fetches the checkpoint in the same
 * MULTI as its answer, so it can never pass an emptied store off as an empty history.
 */
export function createRedisReadModelStore(options: RedisReadModelOptions): ReadModelStore {
  const { redis, writer, prefix } = options;
  const key = {
    checkpoint: `${prefix}rm:checkpoint`,
    room: (id: string) => `${prefix}rm:room:${id}`,
    publicRooms: `${prefix}rm:rooms:public`,
    allRooms: `${prefix}rm:rooms:all`,
    message: (id: string) => `${prefix}rm:msg:${id}`,
    roomMessages: (roomId: string) => `${prefix}rm:room:${roomId}:messages`,
  };
  const parse = <T>(json: string | null): T | null => (json === null ? null : (JSON.parse(json) as T));
  // WATCH lives on one connection: a batch whose connection was replaced (Redis restarted) between
  // its WATCH and its EXEC would commit unwatched onto whatever the new server holds, so each new
  // connection is counted and a batch that straddles two is abandoned (and read again).
  let connection = 0;
  writer.on('ready', () => connection++);

  /** MULTI/EXEC of read commands: their answers come from one moment, the checkpoint's included. */
  async function atomically(build: (tx: ChainableCommander) => ChainableCommander): Promise<unknown[]> {
    const result = await build(redis.multi()).exec();
    if (!result) throw new Error('read transaction aborted');
    const failed = result.find(([error]) => error);
    if (failed) throw failed[0];
    return result.map(([, value]) => value);
  }

  /** The documents at `keys`; given `at`, read with the checkpoint and checked against it. */
  async function docsAt(keys: string[], at: ReadAt | undefined): Promise<Array<string | null>> {
    if (keys.length === 0) return [];
    if (!at) return redis.mget(keys);
    const [checkpoint, docs] = await atomically((tx) => tx.get(key.checkpoint).mget(keys));
    assertReaches(Number(checkpoint ?? 0), at);
    return docs as Array<string | null>;
  }

  /**
   * Runs `read` (index lookups) with the checkpoint in one MULTI when `at` is given, and checks it.
   * Paired with docsAt, a read is checked twice: when it picks the ids, and when it fetches the
   * documents, so a store emptied between the two (FLUSHALL) cannot yield a shorter answer.
   */
  async function indexAt<T>(at: ReadAt | undefined, read: (tx: ChainableCommander) => ChainableCommander, plain: () => Promise<T>): Promise<T> {
    if (!at) return plain();
    const [checkpoint, value] = await atomically((tx) => read(tx.get(key.checkpoint)));
    assertReaches(Number(checkpoint ?? 0), at);
    return value as T;
  }

  async function messagesByIds(ids: string[], at: ReadAt | undefined): Promise<MessageView[]> {
    const docs = await docsAt(ids.map(key.message), at);
    return docs.map((doc) => parse<MessageView>(doc)).filter((m): m is MessageView => m !== null);
  }

  return {
    async apply(events, applyOptions = {}) {
      if (events.length === 0 && applyOptions.through === undefined) return;
      const fence = options.fence?.() ?? null;
      if (options.fence && !fence) throw new FencedOutError();
      // The checkpoint is always watched (and the lease when fenced): a batch must never land on a
      // store that was emptied (FLUSHALL) or moved on between reading it and writing.
      await writer.watch(key.checkpoint, ...(fence ? [fence.key] : []));
      const watchedOn = connection;
      try {
        const roomIds = [...new Set(events.map((e) => e.data.roomId))];
        const messageIds = [...new Set(events.map(historyKey).filter((k): k is string => k !== null))];
        const [checkpointRaw, holder, ...docs] = await writer.mget(
          key.checkpoint,
          fence?.key ?? key.checkpoint,
          ...roomIds.map(key.room),
          ...messageIds.map(key.message),
        );
        if (fence && holder !== fence.token) throw new FencedOutError();
        const checkpoint = Number(checkpointRaw ?? 0);
        if (applyOptions.after !== undefined && applyOptions.after !== checkpoint) throw new CheckpointMismatchError(applyOptions.after, checkpoint);
        const rooms = new Map(roomIds.map((id, i) => [id, parse<RoomView>(docs[i] ?? null) ?? undefined]));
        const messages = new Map(messageIds.map((id, i) => [id, parse<MessageView>(docs[roomIds.length + i] ?? null) ?? undefined]));
        const touchedRooms = new Set<string>();
        const touchedMessages = new Set<string>();
        const trims = new Map<string, number>();
        let last = checkpoint;
        for (const event of events) {
          if (event.position <= last) continue;
          last = event.position;
          const before = trimmedBefore(event);
          if (before !== null) trims.set(event.data.roomId, Math.max(trims.get(event.data.roomId) ?? 0, before));
          const roomId = event.data.roomId;
          rooms.set(roomId, projectRoom(rooms.get(roomId), event));
          touchedRooms.add(roomId);
          const messageId = historyKey(event);
          if (messageId !== null) {
            messages.set(messageId, projectMessage(messages.get(messageId), event));
            touchedMessages.add(messageId);
          }
        }
        last = Math.max(last, applyOptions.through ?? 0);
        if (last === checkpoint) return;
        // Retention: the messages below each trim point go, both those already stored (listed now,
        // under the WATCH) and any this batch would otherwise write.
        const trimmedIds = new Map<string, string[]>();
        for (const [roomId, before] of trims) {
          trimmedIds.set(roomId, await writer.zrangebyscore(key.roomMessages(roomId), '-inf', `(${before}`));
        }
        const tx = writer.multi();
        for (const roomId of touchedRooms) {
          const room = rooms.get(roomId);
          if (!room) continue;
          tx.set(key.room(roomId), JSON.stringify(room));
          tx.sadd(key.allRooms, roomId);
          if (!room.private) tx.zadd(key.publicRooms, room.lastActivityAt, roomId);
        }
        for (const messageId of touchedMessages) {
          const message = messages.get(messageId);
          if (!message || message.seq < (trims.get(message.roomId) ?? 0)) continue;
          tx.set(key.message(messageId), JSON.stringify(message));
          tx.zadd(key.roomMessages(message.roomId), message.seq, messageId);
        }
        for (const [roomId, ids] of trimmedIds) {
          if (ids.length > 0) tx.del(...ids.map(key.message));
          tx.zremrangebyscore(key.roomMessages(roomId), '-inf', `(${trims.get(roomId)}`);
        }
        tx.set(key.checkpoint, String(last));
        // Checked right before EXEC is written (synchronously, while ready): see `connection`.
        if (writer.status !== 'ready' || watchedOn !== connection) throw new Error('the Redis connection was replaced during a batch; it was not applied');
        const result = await tx.exec();
        if (result === null) {
          // A watched key changed meanwhile: the lease (another node leads) or the checkpoint.
          const [now, holderNow] = await writer.mget(key.checkpoint, fence?.key ?? key.checkpoint);
          if (fence && holderNow !== fence.token) throw new FencedOutError();
          throw new CheckpointMismatchError(checkpoint, Number(now ?? 0));
        }
        const failed = result.find(([error]) => error);
        if (failed) throw failed[0];
      } finally {
        await writer.unwatch().catch(() => {});
      }
    },
    async checkpoint() {
      return Number((await redis.get(key.checkpoint)) ?? 0);
    },
    async room(roomId, at) {
      const [doc] = await docsAt([key.room(roomId)], at);
      return parse<RoomView>(doc ?? null);
    },
    roomIds() {
      return redis.smembers(key.allRooms);
    },
    async publicRooms(limit, at) {
      const ids = await indexAt<string[]>(at, (tx) => tx.zrevrange(key.publicRooms, 0, limit - 1), () => redis.zrevrange(key.publicRooms, 0, limit - 1));
      const docs = await docsAt(ids.map(key.room), at);
      return docs.map((doc) => parse<RoomView>(doc)).filter((r): r is RoomView => r !== null);
    },
    async message(messageId, at) {
      const [doc] = await docsAt([key.message(messageId)], at);
      return parse<MessageView>(doc ?? null);
    },
    async messages(roomId, { before, after, limit }: MessageRange, at) {
      const index = key.roomMessages(roomId);
      const upper = before === undefined ? '+inf' : `(${before}`;
      if (after !== undefined) {
        const lower = `(${after}`;
        const ids = await indexAt<string[]>(at, (tx) => tx.zrangebyscore(index, lower, upper, 'LIMIT', 0, limit), () => redis.zrangebyscore(index, lower, upper, 'LIMIT', 0, limit));
        return messagesByIds(ids, at);
      }
      const newestFirst = await indexAt<string[]>(
        at,
        (tx) => tx.zrevrangebyscore(index, upper, '-inf', 'LIMIT', 0, limit),
        () => redis.zrevrangebyscore(index, upper, '-inf', 'LIMIT', 0, limit),
      );
      return messagesByIds(newestFirst.reverse(), at);
    },
    async clear() {
      let cursor = '0';
      do {
        const [next, keys] = await writer.scan(cursor, 'MATCH', `${prefix}rm:*`, 'COUNT', 1_000);
        if (keys.length > 0) await writer.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    },
    async close() {},
  };
}
