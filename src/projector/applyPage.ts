import type { EventStore, StoredEvent } from '../eventStore/eventStore.js';
import type { RoomEvent } from '../domain/events.js';
import { toRoomEvent } from '../domain/fromStored.js';
import type { ReadModelStore } from '../readModels/readModelStore.js';

/** What one batch of the log did to the read models. */
export interface AppliedBatch {
  /** The room events among what was read (the rest of the log is not the read models' business); may be empty. */
  events: RoomEvent[];
  /** How many stored events were read: fewer than a page asked for means the head was reached. */
  read: number;
  /** Position of the last event read, or where reading started when there was none. */
  position: number;
}

/**
 * Applies stored events (in position order) to the read models as ONE `apply`, so the store
 * writes the views and the checkpoint together (and, when fenced, refuses the batch as a whole).
 * Both runners go through here: the checkpointed one for its catch-up pages and each live event,
 * the leased one for every page it applies as the lease holder.
 *
 * The batch is applied only onto the checkpoint it was read after (`after`), so read models that
 * were emptied or replaced meanwhile refuse it (CheckpointMismatchError) instead of getting the
 * tail of the log as their whole content; and the checkpoint moves to the last stored event even
 * when that is not a room event, so it can always reach the log's head (reads wait for that).
 */
export async function applyStored(readModels: ReadModelStore, stored: StoredEvent[], afterPosition: number): Promise<AppliedBatch> {
  const events = stored.map(toRoomEvent).filter((event): event is RoomEvent => event !== null);
  const position = stored.at(-1)?.position ?? afterPosition;
  if (stored.length > 0) await readModels.apply(events, { after: afterPosition, through: position });
  return { events, read: stored.length, position };
}

/** Reads the next page of the log after `afterPosition` and applies it. */
export async function applyNextPage(
  store: EventStore,
  readModels: ReadModelStore,
  afterPosition: number,
  pageSize: number,
): Promise<AppliedBatch> {
  const page = await store.readAll({ afterPosition, limit: pageSize });
  return applyStored(readModels, page, afterPosition);
}
