import type { Logger } from 'pino';
import { TRIMMABLE_EVENT_TYPES, roomIdOfStream } from '../domain/events.js';
import type { EventStore } from '../eventStore/eventStore.js';
import type { DeletesOldEvents } from '../eventStore/retentionCapabilities.js';
import { ageCut, trimPoint, type RetentionPolicy } from './policy.js';
import type { RoomTrimmer } from './roomTrimmer.js';

/**
 * Retention by deleting message events (SQLite). What it guarantees: posts, edits and deletes
 * below the cut go, at once and for good; the room's creation, joins and leaves stay, so the room
 * is still folded from its own stream and needs no snapshot. Each room's cut is first recorded in
 * its log (HistoryTrimmed), and only what is below the recorded cut is deleted, so read models,
 * subscribers and other nodes never see a message vanish without being told.
 *
 * One scan of the store finds every room's head and age cut; a pass is idempotent, so several
 * nodes running it at once is fine. Resolves with the number of events deleted.
 */
export async function deleteOldEvents(options: {
  store: EventStore & DeletesOldEvents;
  trimmer: RoomTrimmer;
  policy: RetentionPolicy;
  /** Events created before this are too old (see policy.ts `cutoff`). */
  since: number;
  log: Logger;
}): Promise<number> {
  const { store, trimmer, policy, since } = options;
  let deleted = 0;
  for (const room of await store.retentionScan({ prefix: 'room-', since })) {
    const roomId = roomIdOfStream(room.stream);
    // The furthest any cut could reach: a room with nothing that far back is skipped unread.
    if (!roomId || trimPoint(room, policy) <= 1) continue;
    // The count is of messages, decided on the room itself: the trim events retention appends
    // take seqs too, and must not count as history.
    const trimmedBefore = await trimmer.trimHistory(roomId, ageCut(room, policy), { keepMessages: policy.maxCount });
    deleted += await store.trimStream(room.stream, { beforeRevision: trimmedBefore, types: TRIMMABLE_EVENT_TYPES });
  }
  if (deleted > 0) options.log.info({ deleted }, 'retention removed old messages');
  return deleted;
}
