import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { UserRef } from '../domain/events.js';
import type { PresenceView } from './presenceView.js';
import type { PresenceStore } from './presenceStore.js';

export interface RedisPresenceOptions {
  redis: Redis;
  prefix: string;
  nodeId: string;
  /** How often this node proves it is alive. */
  heartbeatMs?: number;
  /** A node whose heartbeat is older than this is dead and its users go offline. */
  nodeTtlMs?: number;
  typingTtlMs?: number;
  /** Connections that come online within this long of the first are stored together (a script per room). */
  connectBatchMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * Presence shared by every node through Redis.
 *
 * - online: per room a hash `node|connection → user`, beside it a hash `user id → how many of
 *   those entries are theirs` (so a disconnect learns whether the user's last connection went
 *   without reading the room's whole list: a crowd leaving was quadratic), and per node the set
 *   of rooms it has entries in. (Entries of nodes older than the count are not in it: while such a
 *   node still runs, a user's typing flag may end before their last connection does, and where
 *   such a node reaps a newer one, counts stay too high, so typing then ends only when it lapses.)
 *   Each node refreshes its own key `node:<id>` (TTL nodeTtlMs) every heartbeatMs.
 *   Every node also reaps: a node listed in `nodes` whose key has expired is dead, so its entries
 *   are removed and a change is announced for each of its rooms — users of a `kill -9`ed node go
 *   offline for everyone within about nodeTtlMs + heartbeatMs.
 * - typing: per room a sorted set `user id → lapse time`; reads ignore lapsed entries, and the
 *   node that set the flag announces the lapse. Typing does not need a connection following the
 *   room (the presence contract, test/contracts/presence.contract.ts); a user's last connection
 *   leaving clears it at once.
 */
export function createRedisPresenceStore(options: RedisPresenceOptions): PresenceStore {
  const { redis, prefix, heartbeatMs = 2_000, nodeTtlMs = 6_000, typingTtlMs = 5_000 } = options;
  // One identity per process, not per NODE_ID: a node restarted under the same name is a new
  // presence node, and what its previous life left is reaped when that life's heartbeat lapses.
  const nodeId = `${options.nodeId}~${randomBytes(4).toString('hex')}`;
  const onError = options.onError ?? (() => {});
  const listeners: Array<(roomId: string) => void> = [];
  const changed = (roomId: string) => listeners.forEach((listener) => listener(roomId));
  const key = {
    nodes: `${prefix}presence:nodes`,
    node: (id: string) => `${prefix}presence:node:${id}`,
    nodeRooms: (id: string) => `${prefix}presence:node:${id}:rooms`,
    online: (roomId: string) => `${prefix}presence:room:${roomId}:online`,
    connections: (roomId: string) => `${prefix}presence:room:${roomId}:connections`,
    typing: (roomId: string) => `${prefix}presence:room:${roomId}:typing`,
    users: (roomId: string) => `${prefix}presence:room:${roomId}:users`,
  };
  const typingTimers = new Set<NodeJS.Timeout>();
  const connects = batchedConnects(redis, key, nodeId, changed, options.connectBatchMs ?? CONNECT_BATCH_MS);

  async function heartbeat(): Promise<void> {
    await redis.multi().set(key.node(nodeId), String(Date.now()), 'PX', nodeTtlMs).sadd(key.nodes, nodeId).exec();
  }

  /** Takes every user of a node offline and forgets the node. Idempotent: any node may run it. */
  async function removeNode(id: string): Promise<void> {
    const rooms = await redis.smembers(key.nodeRooms(id));
    for (const roomId of rooms) {
      await redis.eval(REMOVE_NODE_ENTRIES, 3, key.online(roomId), key.connections(roomId), key.typing(roomId), `${id}|`);
      changed(roomId);
    }
    await redis.multi().del(key.nodeRooms(id)).srem(key.nodes, id).exec();
  }

  async function reap(): Promise<void> {
    for (const other of await redis.smembers(key.nodes)) {
      if (other !== nodeId && !(await redis.exists(key.node(other)))) await removeNode(other);
    }
  }

  const beat = () => heartbeat().then(reap).catch(onError);
  void beat();
  const timer = setInterval(beat, heartbeatMs);
  timer.unref();

  return {
    connect(roomId, user, connectionId) {
      return connects.add(roomId, `${nodeId}|${connectionId}`, user);
    },
    async disconnect(roomId, userId, connectionId) {
      // Their last connection to the room (on any node) gone: they stopped typing too (the script).
      await redis.eval(DISCONNECT, 3, key.online(roomId), key.connections(roomId), key.typing(roomId), `${nodeId}|${connectionId}`, userId);
      changed(roomId);
    },
    async setTyping(roomId, user, typing) {
      if (typing) {
        await redis
          .multi()
          .zadd(key.typing(roomId), Date.now() + typingTtlMs, user.id)
          .hset(key.users(roomId), user.id, JSON.stringify(user))
          .pexpire(key.users(roomId), typingTtlMs * 4)
          .pexpire(key.typing(roomId), typingTtlMs * 4)
          .exec();
        const lapse = setTimeout(() => {
          typingTimers.delete(lapse);
          changed(roomId);
        }, typingTtlMs + 50);
        lapse.unref();
        typingTimers.add(lapse);
      } else {
        const removed = await redis.zrem(key.typing(roomId), user.id);
        if (removed === 0) return;
      }
      changed(roomId);
    },
    async snapshot(roomId): Promise<PresenceView> {
      const now = Date.now();
      const [online, typingIds, users] = await Promise.all([
        redis.hvals(key.online(roomId)),
        redis.zrangebyscore(key.typing(roomId), now, '+inf'),
        redis.hgetall(key.users(roomId)),
      ]);
      const byId = new Map<string, UserRef>();
      for (const json of online) {
        const user = JSON.parse(json) as UserRef;
        byId.set(user.id, user);
      }
      const typing = typingIds.filter((id) => users[id]).map((id) => JSON.parse(users[id]!) as UserRef);
      return { roomId, count: byId.size, online: [...byId.values()], typing };
    },
    onChange(listener) {
      listeners.push(listener);
    },
    async close() {
      clearInterval(timer);
      for (const lapse of typingTimers) clearTimeout(lapse);
      // Leaving cleanly: take this node's users offline now rather than after the TTL, after the
      // connections still being gathered are stored (else they would be stored after the removal).
      try {
        await connects.settle();
        await redis.del(key.node(nodeId));
        await removeNode(nodeId);
      } catch (error) {
        onError(error);
      }
    },
  };
}

/**
 * One entry leaves the room: KEYS online, connections, typing; ARGV field, user id. Only an entry
 * that was there counts down (a disconnect may be repeated); the user's last one clears their count
 * and their typing.
 */
const DISCONNECT = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[2], ARGV[2], -1) <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[2])
end
return 1`;

/** Every entry of one node leaves the room: KEYS online, connections, typing; ARGV the node's field prefix. */
const REMOVE_NODE_ENTRIES = `
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  if string.sub(entries[i], 1, #ARGV[1]) == ARGV[1] then
    redis.call('HDEL', KEYS[1], entries[i])
    local ok, user = pcall(cjson.decode, entries[i + 1])
    local id = ok and type(user) == 'table' and user.id
    if type(id) == 'string' and redis.call('HINCRBY', KEYS[2], id, -1) <= 0 then
      redis.call('HDEL', KEYS[2], id)
      redis.call('ZREM', KEYS[3], id)
    end
  end
end
return 0`;

/**
 * A node's connections come online in one room: KEYS online, connections, the node's rooms, the
 * nodes; ARGV the node id, the room id, then (field, user JSON, user id) per entry. An entry
 * counts its user once, even if it were stored twice.
 */
const CONNECT_ENTRIES = `
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('SADD', KEYS[4], ARGV[1])
for i = 3, #ARGV, 3 do
  if redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('HINCRBY', KEYS[2], ARGV[i + 2], 1)
  end
end
return 0`;
// The room and the node are registered first: a script that fails part way keeps what it wrote
// (Redis has no rollback), and what it wrote must be findable by the reaper.

/** How long connections are gathered before they are stored (presence is published 50 ms after a change anyway). */
const CONNECT_BATCH_MS = 10;

/**
 * Connections that come online within `batchMs` of each other are written together: a
 * crowd subscribing at once made one MULTI each, most of what a subscription cost a node with
 * Redis; gathered per turn of the event loop, a node taking 1,000 subscriptions a second still
 * wrote a transaction every few of them, and the write to Redis's socket was an eighth of its
 * work. Each connect resolves once its entry is stored (so a disconnect, which waits for it,
 * never runs before it), and each room changed is announced once.
 */
function batchedConnects(
  redis: Redis,
  key: { nodes: string; nodeRooms: (id: string) => string; online: (roomId: string) => string; connections: (roomId: string) => string },
  nodeId: string,
  changed: (roomId: string) => void,
  batchMs: number,
) {
  interface RoomBatch {
    /** (field, user JSON, user id) per entry, as the script takes them. */
    entries: string[];
    waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
  }
  let pending: Map<string, RoomBatch> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let flushed: Promise<unknown> = Promise.resolve();
  const flush = () => {
    const rooms = pending!;
    pending = null;
    // settle() may store a batch before its time: its timer then has nothing to do.
    clearTimeout(timer);
    // One script per room (usually one room): a command per entry was most of a batch's cost.
    // Not one transaction across rooms: each room's script is atomic, and registers the room and
    // the node with its entries, so they are reaped even if the node dies before its first
    // heartbeat lands. Each room's connects resolve (and the room is announced) or fail alone.
    // No ioredis pipeline: building one costs more than the command (a batch rarely has two rooms).
    flushed = Promise.all(
      [...rooms].map(([roomId, { entries, waiters }]) =>
        redis.eval(CONNECT_ENTRIES, 4, key.online(roomId), key.connections(roomId), key.nodeRooms(nodeId), key.nodes, nodeId, roomId, ...entries).then(
          () => {
            for (const waiter of waiters) waiter.resolve();
            changed(roomId);
          },
          (error: unknown) => {
            for (const waiter of waiters) waiter.reject(error);
          },
        ),
      ),
    );
  };
  return {
    add(roomId: string, field: string, user: UserRef): Promise<void> {
      if (!pending) {
        pending = new Map();
        timer = setTimeout(flush, batchMs);
      }
      let room = pending.get(roomId);
      if (!room) pending.set(roomId, (room = { entries: [], waiters: [] }));
      room.entries.push(field, JSON.stringify(user), user.id);
      const waiters = room.waiters;
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    /** Stores what is gathered now, and resolves once everything sent so far is answered. */
    async settle(): Promise<void> {
      if (pending) flush();
      await flushed;
    },
  };
}
