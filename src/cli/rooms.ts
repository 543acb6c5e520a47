import type { RoomView } from '../../projections/views.js';
import type { EventStore } from '../eventStore/eventStore.js';
import { createMemoryReadModelStore } from '../readModels/memoryReadModelStore.js';
import { rebuildInto } from './rebuild.js';

/**
 * Every room in the log, private ones included, oldest first: the log folded by the same
 * projections a node runs, in memory. Straight from the log, so it needs no node and no Redis and
 * cannot disagree with what `export` and `replay` read.
 */
export async function listRooms(store: EventStore): Promise<RoomView[]> {
  const readModels = createMemoryReadModelStore();
  try {
    await rebuildInto(store, readModels);
    const rooms = await Promise.all((await readModels.roomIds()).map((id) => readModels.room(id)));
    return rooms.filter((room): room is RoomView => room !== null).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  } finally {
    await readModels.close();
  }
}

/** One line per room for people: id, private or public, members, head seq, name last (it may hold spaces). */
export function formatRoomLine(room: RoomView): string {
  return `${room.id}  ${room.private ? 'private' : 'public '}  ${String(room.memberCount).padStart(4)} members  head #${String(room.headSeq).padEnd(6)}  ${room.name}`;
}
