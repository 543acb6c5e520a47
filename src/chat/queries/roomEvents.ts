import { roomStream, type RoomEvent, type UserRef } from '../../domain/events.js';
import { toRoomEvent } from '../../domain/fromStored.js';
import type { ChatPorts } from '../ports.js';
import type { RoomAccess } from '../roomAccess.js';
import * as valid from '../validate.js';

export type RoomEventsQuery = (viewer: UserRef | null, roomId: string, afterSeq: number | null | undefined, limit: number | null | undefined) => Promise<RoomEvent[]>;

/** Raw replay from the log itself (not a projection): exactly what was appended. */
export function roomEvents(ports: Pick<ChatPorts, 'store'> & { access: RoomAccess }): RoomEventsQuery {
  return async (viewer, roomId, afterSeq, limit) => {
    const { oldestSeq } = await ports.access.assertCanRead(viewer, roomId);
    // Older than what retention kept: start at the oldest kept seq (its HistoryTrimmed event says why).
    const from = Math.max((valid.seq(afterSeq, 'afterSeq') ?? 0) + 1, oldestSeq);
    const stored = await ports.store.readStream(roomStream(roomId), { fromRevision: from, limit: valid.limit(limit, 100, 1_000) });
    return stored.map(toRoomEvent).filter((event): event is RoomEvent => event !== null);
  };
}
