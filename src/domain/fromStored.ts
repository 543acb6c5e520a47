import type { StoredEvent } from '../eventStore/eventStore.js';
import { ROOM_EVENT_TYPES, roomIdOfStream, type RoomEvent } from './events.js';

/** A stored event of a room stream as a domain event, or null for anything else in the log. */
export function toRoomEvent(stored: StoredEvent): RoomEvent | null {
  if (!ROOM_EVENT_TYPES.has(stored.type) || roomIdOfStream(stored.stream) === null) return null;
  return {
    id: stored.id,
    type: stored.type,
    data: stored.data,
    seq: stored.revision,
    position: stored.position,
    at: stored.createdAt,
  } as RoomEvent;
}
