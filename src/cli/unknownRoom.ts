import { roomStream } from '../domain/events.js';
import type { EventStore } from '../eventStore/eventStore.js';

/** A room id with no stream in the log: a typo, or the wrong store (EVENT_STORE, DATA_DIR). */
export class UnknownRoomError extends Error {
  constructor(readonly roomIds: string[]) {
    super(
      `no room ${roomIds.join(', ')} in this event store (check the id, EVENT_STORE and DATA_DIR; \`npm run cli -- rooms\` lists every room)`,
    );
    this.name = 'UnknownRoomError';
  }
}

/** Throws UnknownRoomError naming every room of `roomIds` the log does not have; checks them all before any output. */
export async function assertRoomsExist(store: EventStore, roomIds: string[]): Promise<void> {
  const missing: string[] = [];
  for (const id of roomIds) if ((await store.streamRevision(roomStream(id))) === 0) missing.push(id);
  if (missing.length > 0) throw new UnknownRoomError(missing);
}
