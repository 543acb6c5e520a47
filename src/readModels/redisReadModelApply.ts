import type { ChainableCommander, Redis } from 'ioredis';
import type { RoomEvent } from '../domain/events.js';
import { historyKey, projectMessage, trimmedBefore } from '../../projections/history.js';
import { applyMembership, membershipChange, type MembershipChange } from '../../projections/memberships.js';
import { projectRoom } from '../../projections/rooms.js';
import type { MessageView, RoomView } from '../../projections/views.js';
import { CheckpointMismatchError, FencedOutError, type ApplyOptions } from './readModelStore.js';
import { parse, type ReadModelKeys } from './redisReadModelLayout.js';

/** The projector lease as the store sees it: the key, and the token it holds while we lead. */
type Fence = { key: string; token: string };

/** What `apply` works on: the part of the Redis read-model store's state that writes. */
export interface ApplyState {
  /** A connection of its own: WATCH is per connection (see RedisReadModelOptions). */
  writer: Redis;
  key: ReadModelKeys;
  fence?: () => Fence | null;
  /** How many times the writer has connected (see trackConnections). */
  connection: number;
}

/** What the batch read under the WATCH: the checkpoint and the views it is about to change. */
interface Watched {
  checkpoint: number;
  rooms: Map<string, RoomView | undefined>;
  messages: Map<string, MessageView | undefined>;
}

/** The batch folded onto the watched views: what to write, and where the checkpoint goes. */
interface Folded extends Watched {
  last: number;
  touchedRooms: Set<string>;
  touchedMessages: Set<string>;
  /** Per room, the seq below which retention removes its messages. */
  trims: Map<string, number>;
  /** The batch's membership changes, in log order. */
  memberships: MembershipChange[];
}

/**
 * WATCH lives on one connection: a batch whose connection was replaced (Redis restarted) between
 * its WATCH and its EXEC would commit unwatched onto whatever the new server holds, so each new
 * connection is counted and a batch that straddles two is abandoned (and read again).
 */
export function trackConnections(state: ApplyState): void {
  state.writer.on('ready', () => state.connection++);
}

/**
 * Applies a batch as ONE fenced compare-and-set transaction: WATCH the checkpoint (and the lease),
 * read the views the batch changes, fold it, and MULTI/EXEC the views with the new checkpoint.
 */
export async function applyBatch(state: ApplyState, events: RoomEvent[], options: ApplyOptions = {}): Promise<void> {
  if (events.length === 0 && options.through === undefined) return;
  const fence = state.fence?.() ?? null;
  if (state.fence && !fence) throw new FencedOutError();
  // The batch is pinned to the connection it starts on: counted before WATCH is sent, so a
  // replacement at any point after is seen at EXEC.
  await counted(state);
  const watchedOn = state.connection;
  // The checkpoint is always watched (and the lease when fenced): a batch must never land on a
  // store that was emptied (FLUSHALL) or moved on between reading it and writing.
  await state.writer.watch(state.key.checkpoint, ...(fence ? [fence.key] : []));
  try {
    const watched = await readWatched(state, events, fence, options.after);
    const batch = fold(watched, events, options.through);
    if (batch.last === watched.checkpoint) return;
    const trimmedIds = await listTrimmed(state, batch.trims);
    const members = await listResetMembers(state, batch.memberships);
    const tx = queueWrites(state, batch, trimmedIds, members);
    await execOnWatchedConnection(state, tx, watchedOn, watched.checkpoint, fence);
  } finally {
    await state.writer.unwatch().catch(() => {});
  }
}

/**
 * Resolves once a writer that is connecting is ready and its connection counted
 * (trackConnections). ioredis sends commands flagged `loading`, WATCH among them, while its ready
 * check is still running, so a WATCH could be answered before the 'ready' event that counts the
 * connection, and the batch would take the old number and be refused at EXEC as if the connection
 * had been replaced. ioredis sets the status at once and emits 'ready' on the next tick, so a ready
 * writer is given that tick. Any other state (closed, lazy, reconnecting after a drop) is left as
 * it was: the WATCH fails, connects or waits as before, and EXEC's check stands. The wait is
 * bounded, the WATCH's own timeouts then apply.
 */
async function counted(state: ApplyState): Promise<void> {
  const { writer } = state;
  if (writer.status === 'ready') return new Promise((resolve) => process.nextTick(resolve));
  if (writer.status !== 'connecting' && writer.status !== 'connect') return;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const event of SETTLED) writer.off(event, done);
      resolve();
    };
    const timer = setTimeout(done, CONNECTING_WAIT_MS);
    timer.unref();
    for (const event of SETTLED) writer.on(event, done);
  });
}

const SETTLED = ['ready', 'close', 'end'] as const;
const CONNECTING_WAIT_MS = 10_000;

/**
 * Reads, under the WATCH, the checkpoint, the lease's holder and the documents the batch touches;
 * refuses the batch when the lease is not ours or the checkpoint is not the one it was read after.
 */
async function readWatched(state: ApplyState, events: RoomEvent[], fence: Fence | null, after: number | undefined): Promise<Watched> {
  const { key } = state;
  const roomIds = [...new Set(events.map((e) => e.data.roomId))];
  const messageIds = [...new Set(events.map(historyKey).filter((k): k is string => k !== null))];
  const [checkpointRaw, holder, ...docs] = await state.writer.mget(
    key.checkpoint,
    fence?.key ?? key.checkpoint,
    ...roomIds.map(key.room),
    ...messageIds.map(key.message),
  );
  if (fence && holder !== fence.token) throw new FencedOutError();
  const checkpoint = Number(checkpointRaw ?? 0);
  if (after !== undefined && after !== checkpoint) throw new CheckpointMismatchError(after, checkpoint);
  const rooms = new Map(roomIds.map((id, i) => [id, parse<RoomView>(docs[i] ?? null) ?? undefined]));
  const messages = new Map(messageIds.map((id, i) => [id, parse<MessageView>(docs[roomIds.length + i] ?? null) ?? undefined]));
  return { checkpoint, rooms, messages };
}

/** Folds the events past the checkpoint onto the watched views (pure: Redis is not touched). */
function fold(watched: Watched, events: RoomEvent[], through: number | undefined): Folded {
  const { rooms, messages } = watched;
  const touchedRooms = new Set<string>();
  const touchedMessages = new Set<string>();
  const trims = new Map<string, number>();
  const memberships: MembershipChange[] = [];
  let last = watched.checkpoint;
  for (const event of events) {
    if (event.position <= last) continue;
    last = event.position;
    const before = trimmedBefore(event);
    if (before !== null) trims.set(event.data.roomId, Math.max(trims.get(event.data.roomId) ?? 0, before));
    const roomId = event.data.roomId;
    rooms.set(roomId, projectRoom(rooms.get(roomId), event));
    touchedRooms.add(roomId);
    const membership = membershipChange(event);
    if (membership) memberships.push(membership);
    const messageId = historyKey(event);
    if (messageId !== null) {
      messages.set(messageId, projectMessage(messages.get(messageId), event));
      touchedMessages.add(messageId);
    }
  }
  last = Math.max(last, through ?? 0);
  return { ...watched, last, touchedRooms, touchedMessages, trims, memberships };
}

/**
 * Retention: the messages below each trim point go, both those already stored (listed now,
 * under the WATCH) and any this batch would otherwise write.
 */
async function listTrimmed(state: ApplyState, trims: Map<string, number>): Promise<Map<string, string[]>> {
  const trimmedIds = new Map<string, string[]>();
  for (const [roomId, before] of trims) {
    trimmedIds.set(roomId, await state.writer.zrangebyscore(state.key.roomMessages(roomId), '-inf', `(${before}`));
  }
  return trimmedIds;
}

/**
 * The current members of the rooms whose member list the batch replaces (a trim carrying the
 * room's snapshot), read under the WATCH: who is no longer listed must lose the room from their
 * own list. Joins and leaves need no read: each adds or removes one membership.
 */
async function listResetMembers(state: ApplyState, memberships: MembershipChange[]): Promise<Map<string, Set<string>>> {
  const members = new Map<string, Set<string>>();
  for (const change of memberships) {
    if (change.kind === 'members' && !members.has(change.roomId)) members.set(change.roomId, new Set(await state.writer.smembers(state.key.roomMembers(change.roomId))));
  }
  return members;
}

/**
 * Queues the membership changes: joins and leaves in log order, one SADD/SREM pair each; a room
 * whose member list is replaced in this batch is folded here from its current members (every
 * change to it in the batch, in order) and written as the difference.
 */
function queueMemberships(state: ApplyState, tx: ChainableCommander, memberships: MembershipChange[], resetMembers: Map<string, Set<string>>): void {
  const { key } = state;
  const folded = new Map([...resetMembers].map(([roomId, ids]) => [roomId, new Set(ids)]));
  for (const change of memberships) {
    const members = folded.get(change.roomId);
    if (members) applyMembership(members, change);
    else if (change.kind === 'joined') tx.sadd(key.roomMembers(change.roomId), change.userId).sadd(key.userRooms(change.userId), change.roomId);
    else if (change.kind === 'left') tx.srem(key.roomMembers(change.roomId), change.userId).srem(key.userRooms(change.userId), change.roomId);
  }
  for (const [roomId, after] of folded) {
    const before = resetMembers.get(roomId)!;
    for (const gone of before) if (!after.has(gone)) tx.srem(key.roomMembers(roomId), gone).srem(key.userRooms(gone), roomId);
    for (const added of after) if (!before.has(added)) tx.sadd(key.roomMembers(roomId), added).sadd(key.userRooms(added), roomId);
  }
}

/** The batch's writes, the new checkpoint last, queued in one MULTI (not yet sent). */
function queueWrites(state: ApplyState, batch: Folded, trimmedIds: Map<string, string[]>, resetMembers: Map<string, Set<string>>): ChainableCommander {
  const { key } = state;
  const { rooms, messages, trims } = batch;
  const tx = state.writer.multi();
  for (const roomId of batch.touchedRooms) {
    const room = rooms.get(roomId);
    if (!room) continue;
    tx.set(key.room(roomId), JSON.stringify(room));
    tx.sadd(key.allRooms, roomId);
    if (!room.private) tx.zadd(key.publicRooms, room.lastActivityAt, roomId);
  }
  for (const messageId of batch.touchedMessages) {
    const message = messages.get(messageId);
    if (!message || message.seq < (trims.get(message.roomId) ?? 0)) continue;
    tx.set(key.message(messageId), JSON.stringify(message));
    tx.zadd(key.roomMessages(message.roomId), message.seq, messageId);
  }
  for (const [roomId, ids] of trimmedIds) {
    if (ids.length > 0) tx.del(...ids.map(key.message));
    tx.zremrangebyscore(key.roomMessages(roomId), '-inf', `(${trims.get(roomId)}`);
  }
  queueMemberships(state, tx, batch.memberships, resetMembers);
  tx.set(key.checkpoint, String(batch.last));
  return tx;
}

/**
 * Sends the EXEC, only on the connection that holds the WATCH; a refused EXEC says why: the lease
 * moved (FencedOutError) or the checkpoint did (CheckpointMismatchError).
 */
async function execOnWatchedConnection(state: ApplyState, tx: ChainableCommander, watchedOn: number, checkpoint: number, fence: Fence | null): Promise<void> {
  const { writer, key } = state;
  // Checked right before EXEC is written (synchronously, while ready): see trackConnections.
  if (writer.status !== 'ready' || watchedOn !== state.connection) throw new Error('the Redis connection was replaced during a batch; it was not applied');
  const result = await tx.exec();
  if (result === null) {
    // A watched key changed meanwhile: the lease (another node leads) or the checkpoint.
    const [now, holderNow] = await writer.mget(key.checkpoint, fence?.key ?? key.checkpoint);
    if (fence && holderNow !== fence.token) throw new FencedOutError();
    throw new CheckpointMismatchError(checkpoint, Number(now ?? 0));
  }
  const failed = result.find(([error]) => error);
  if (failed) throw failed[0];
}
