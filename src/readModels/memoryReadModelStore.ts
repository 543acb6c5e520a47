import type { RoomEvent } from '../domain/events.js';
import { historyKey, projectMessage, trimmedBefore } from '../../projections/history.js';
import { projectRoom } from '../../projections/rooms.js';
import type { MessageView, RoomView } from '../../projections/views.js';
import { assertReaches, CheckpointMismatchError, type MessageRange, type ReadModelStore } from './readModelStore.js';

/**
 * Read models in this process's memory. Serves ONE node only: other nodes cannot see them, and
 * they are rebuilt from the log at every start. Messages of a room are kept in an array sorted
 * by seq (posts arrive in seq order), so ranges are a binary search and a slice.
 */
export function createMemoryReadModelStore(): ReadModelStore {
  const rooms = new Map<string, RoomView>();
  const messagesById = new Map<string, MessageView>();
  const messagesByRoom = new Map<string, MessageView[]>();
  let checkpoint = 0;

  function putMessage(view: MessageView, isNew: boolean): void {
    messagesById.set(view.id, view);
    let list = messagesByRoom.get(view.roomId);
    if (!list) messagesByRoom.set(view.roomId, (list = []));
    if (isNew) {
      list.push(view);
      return;
    }
    const at = firstIndexAbove(list, view.seq - 1);
    if (list[at]?.seq === view.seq) list[at] = view;
  }

  function applyOne(event: RoomEvent): void {
    const roomId = event.data.roomId;
    const room = projectRoom(rooms.get(roomId), event);
    if (room) rooms.set(roomId, room);
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
    if (after && after !== before) putMessage(after, before === undefined);
  }

  return {
    async apply(events, options = {}) {
      if (options.after !== undefined && options.after !== checkpoint) throw new CheckpointMismatchError(options.after, checkpoint);
      for (const event of events) {
        if (event.position <= checkpoint) continue;
        applyOne(event);
        checkpoint = event.position;
      }
      checkpoint = Math.max(checkpoint, options.through ?? 0);
    },
    async checkpoint() {
      return checkpoint;
    },
    async room(roomId, at) {
      assertReaches(checkpoint, at);
      return rooms.get(roomId) ?? null;
    },
    async roomIds() {
      return [...rooms.keys()];
    },
    async publicRooms(limit, at) {
      assertReaches(checkpoint, at);
      return [...rooms.values()]
        .filter((room) => !room.private)
        .sort((a, b) => b.lastActivityAt - a.lastActivityAt || b.createdAt - a.createdAt)
        .slice(0, limit);
    },
    async message(messageId, at) {
      assertReaches(checkpoint, at);
      return messagesById.get(messageId) ?? null;
    },
    async messages(roomId, range, at) {
      assertReaches(checkpoint, at);
      return sliceRange(messagesByRoom.get(roomId) ?? [], range);
    },
    async clear() {
      rooms.clear();
      messagesById.clear();
      messagesByRoom.clear();
      checkpoint = 0;
    },
    async close() {},
  };
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
