import type { RoomEvent } from '../domain/events.js';
import { historyKey, projectMessage, trimmedBefore } from '../../projections/history.js';
import { applyMembership, membershipChange } from '../../projections/memberships.js';
import { projectRoom } from '../../projections/rooms.js';
import type { MessageView, RoomView } from '../../projections/views.js';
import { assertReaches, CheckpointMismatchError, type ApplyOptions, type MessageRange, type ReadAt, type ReadModelStore } from './readModelStore.js';

/** What every operation of one store works on. */
interface MemoryReadModel {
  rooms: Map<string, RoomView>;
  messagesById: Map<string, MessageView>;
  /** Per room, its messages sorted by seq. */
  messagesByRoom: Map<string, MessageView[]>;
  /** Per room, its members' ids; per user, the ids of the rooms they are a member of. */
  roomMembers: Map<string, Set<string>>;
  userRooms: Map<string, Set<string>>;
  checkpoint: number;
}

/**
 * Read models in this process's memory. Serves ONE node only: other nodes cannot see them, and
 * they are rebuilt from the log at every start. Messages of a room are kept in an array sorted
 * by seq (posts arrive in seq order), so ranges are a binary search and a slice.
 */
export function createMemoryReadModelStore(): ReadModelStore {
  const store: MemoryReadModel = { rooms: new Map(), messagesById: new Map(), messagesByRoom: new Map(), roomMembers: new Map(), userRooms: new Map(), checkpoint: 0 };
  // Async wrappers: a refused batch or a read behind `at` rejects, as the port's promises do.
  return {
    apply: async (events, options = {}) => apply(store, events, options),
    checkpoint: async () => store.checkpoint,
    room: async (roomId, at) => readRoom(store, roomId, at),
    roomIds: async () => [...store.rooms.keys()],
    publicRooms: async (limit, at) => readPublicRooms(store, limit, at),
    memberRooms: async (userId, limit, at) => readMemberRooms(store, userId, limit, at),
    message: async (messageId, at) => readMessage(store, messageId, at),
    messages: async (roomId, range, at) => readMessages(store, roomId, range, at),
    clear: async () => clear(store),
    close: async () => {},
  };
}

function apply(store: MemoryReadModel, events: RoomEvent[], options: ApplyOptions): void {
  if (options.after !== undefined && options.after !== store.checkpoint) throw new CheckpointMismatchError(options.after, store.checkpoint);
  for (const event of events) {
    if (event.position <= store.checkpoint) continue;
    applyOne(store, event);
    store.checkpoint = event.position;
  }
  store.checkpoint = Math.max(store.checkpoint, options.through ?? 0);
}

function applyOne(store: MemoryReadModel, event: RoomEvent): void {
  const { rooms, messagesById, messagesByRoom } = store;
  const roomId = event.data.roomId;
  const room = projectRoom(rooms.get(roomId), event);
  if (room) rooms.set(roomId, room);
  applyMembershipOf(store, event);
  const trimPoint = trimmedBefore(event);
  if (trimPoint !== null) {
    const list = messagesByRoom.get(roomId) ?? [];
    const keep = firstIndexAbove(list, trimPoint - 1);
    for (const gone of list.splice(0, keep)) messagesById.delete(gone.id);
    return;
  }
  const key = historyKey(event);
  if (key === null) return;
  const before = messagesById.get(key);
  const after = projectMessage(before, event);
  if (after && after !== before) putMessage(store, after, before === undefined);
}

function applyMembershipOf(store: MemoryReadModel, event: RoomEvent): void {
  const change = membershipChange(event);
  if (!change) return;
  let members = store.roomMembers.get(change.roomId);
  if (!members) store.roomMembers.set(change.roomId, (members = new Set()));
  // A join or a leave touches one member: in place, so its cost does not grow with the room (the
  // log is replayed here at every start). Only a snapshot's whole list is compared with the old.
  const before = change.kind === 'members' ? new Set(members) : null;
  applyMembership(members, change);
  if (change.kind === 'joined') addUserRoom(store, change.userId, change.roomId);
  else if (change.kind === 'left') store.userRooms.get(change.userId)?.delete(change.roomId);
  else {
    for (const gone of before!) if (!members.has(gone)) store.userRooms.get(gone)?.delete(change.roomId);
    for (const added of members) if (!before!.has(added)) addUserRoom(store, added, change.roomId);
  }
}

function addUserRoom(store: MemoryReadModel, userId: string, roomId: string): void {
  let rooms = store.userRooms.get(userId);
  if (!rooms) store.userRooms.set(userId, (rooms = new Set()));
  rooms.add(roomId);
}

function putMessage(store: MemoryReadModel, view: MessageView, isNew: boolean): void {
  store.messagesById.set(view.id, view);
  let list = store.messagesByRoom.get(view.roomId);
  if (!list) store.messagesByRoom.set(view.roomId, (list = []));
  if (isNew) {
    list.push(view);
    return;
  }
  const at = firstIndexAbove(list, view.seq - 1);
  if (list[at]?.seq === view.seq) list[at] = view;
}

function readRoom(store: MemoryReadModel, roomId: string, at: ReadAt | undefined): RoomView | null {
  assertReaches(store.checkpoint, at);
  return store.rooms.get(roomId) ?? null;
}

function readPublicRooms(store: MemoryReadModel, limit: number, at: ReadAt | undefined): RoomView[] {
  assertReaches(store.checkpoint, at);
  return [...store.rooms.values()]
    .filter((room) => !room.private)
    .sort((a, b) => b.lastActivityAt - a.lastActivityAt || b.createdAt - a.createdAt)
    .slice(0, limit);
}

function readMemberRooms(store: MemoryReadModel, userId: string, limit: number, at: ReadAt | undefined): RoomView[] {
  assertReaches(store.checkpoint, at);
  const ids = [...(store.userRooms.get(userId) ?? [])];
  return byActivity(ids.map((id) => store.rooms.get(id)).filter((room): room is RoomView => room !== undefined)).slice(0, limit);
}

/** Newest activity first (the order of every room list). */
export const byActivity = (rooms: RoomView[]): RoomView[] => rooms.sort((a, b) => b.lastActivityAt - a.lastActivityAt || b.createdAt - a.createdAt);

function readMessage(store: MemoryReadModel, messageId: string, at: ReadAt | undefined): MessageView | null {
  assertReaches(store.checkpoint, at);
  return store.messagesById.get(messageId) ?? null;
}

function readMessages(store: MemoryReadModel, roomId: string, range: MessageRange, at: ReadAt | undefined): MessageView[] {
  assertReaches(store.checkpoint, at);
  return sliceRange(store.messagesByRoom.get(roomId) ?? [], range);
}

function clear(store: MemoryReadModel): void {
  store.rooms.clear();
  store.messagesById.clear();
  store.messagesByRoom.clear();
  store.roomMembers.clear();
  store.userRooms.clear();
  store.checkpoint = 0;
}

/** Index of the first message with seq > `seq` (binary search over an ascending list). */
function firstIndexAbove(list: MessageView[], seq: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function sliceRange(list: MessageView[], { before, after, limit }: MessageRange): MessageView[] {
  const end = before === undefined ? list.length : firstIndexAbove(list, before - 1);
  if (after !== undefined) {
    const start = firstIndexAbove(list, after);
    return list.slice(start, Math.max(start, Math.min(end, start + limit)));
  }
  return list.slice(Math.max(0, end - limit), end);
}
