import type { Logger } from 'pino';
import { roomStream } from '../domain/events.js';
import type { EventStore } from '../eventStore/eventStore.js';
import type { KeepsStreamMetadata } from '../eventStore/retentionCapabilities.js';
import { trimPoint, type RetentionPolicy } from './policy.js';
import type { RoomTrimmer } from './roomTrimmer.js';

/**
 * Retention by stream metadata (EventStoreDB). The store drops a stream's whole prefix,
 * RoomCreated and the joins included, so what this strategy guarantees is that a room never
 * loses itself: a HistoryTrimmed carrying a snapshot of the room is always inside what the store
 * keeps, and a prefix is cut only up to such a snapshot.
 *
 * - By count, `$maxCount` does the cutting as events arrive. `$maxCount` stays in the stream's
 *   metadata whoever set it, so the window is also recorded in the room's snapshots, and every
 *   node's commands append a fresh one every half of THAT window (snapshotCarrier.ts), whatever
 *   its own setting. This job brings a room's window to this node's setting, lifting it when the
 *   node has none: a smaller window is recorded (with a snapshot inside it) before the store
 *   enforces it, a larger one (or none) only after, so the recorded window is never larger than
 *   the one in force.
 * - By age, this job moves `$tb` up to a snapshot it appends. `$maxAge` is NOT used: it drops
 *   events by the clock alone, so a quiet room would lose its last snapshot (and so itself)
 *   while no node runs.
 *
 * The store gives no scan, so the rooms come from the read models (`roomIds`, private ones too).
 * Idempotent, so several nodes running it at once is fine.
 */
export function createStreamMetadataRetention(options: {
  store: EventStore & KeepsStreamMetadata;
  trimmer: RoomTrimmer;
  roomIds: () => Promise<string[]>;
  policy: RetentionPolicy;
  log: Logger;
}): (since: number) => Promise<number> {
  const { store, trimmer, policy } = options;
  /** Rooms whose window this process has brought to its setting. */
  const countApplied = new Set<string>();
  const keepLast = policy.maxCount ?? null;

  /** One pass; resolves with the number of rooms whose stream start it moved by age. */
  return async function run(since: number): Promise<number> {
    let trimmedRooms = 0;
    for (const roomId of await options.roomIds()) {
      // One room failing (a stream deleted in the store, say) must not keep every room after it
      // from retention: it is logged, and tried again at the next run.
      try {
        if (await runRoom(roomId, since)) trimmedRooms++;
      } catch (error) {
        options.log.warn({ err: error, roomId }, 'retention failed for a room; the others go on');
      }
    }
    if (trimmedRooms > 0) options.log.info({ rooms: trimmedRooms }, "retention moved the start of rooms' streams");
    return trimmedRooms;
  };

  /** One room; true when it moved the stream's start by age. */
  async function runRoom(roomId: string, since: number): Promise<boolean> {
    const stream = roomStream(roomId);
    if (!countApplied.has(stream)) {
      await applyWindow(store, trimmer, roomId, keepLast);
      countApplied.add(stream);
    }
    if (policy.maxAgeMs === undefined) return false;
    const [first] = await store.readStream(stream, { limit: 1 });
    const head = await store.streamRevision(stream);
    if (!first) return false;
    const firstSince = await firstRevisionSince(store, stream, since, first.revision, head);
    const before = trimPoint({ head, firstSince }, { maxAgeMs: policy.maxAgeMs, intervalMs: policy.intervalMs });
    // Nothing to cut, or only the snapshot a quiet room already is: cutting would only add another.
    if (before <= first.revision || (first.revision === head && first.type === 'HistoryTrimmed')) return false;
    const trimmedBefore = await trimmer.trimHistory(roomId, before, { carrySnapshot: true });
    await store.setStreamRetention(stream, { truncateBefore: trimmedBefore });
    return true;
  }
}

/** Brings the stream's `$maxCount` to `keepLast` (null: none), recorded in the room in the safe order. */
async function applyWindow(store: EventStore & KeepsStreamMetadata, trimmer: RoomTrimmer, roomId: string, keepLast: number | null): Promise<void> {
  const stream = roomStream(roomId);
  const current = (await store.streamRetention(stream)).maxCount ?? null;
  if (current === keepLast) {
    if (keepLast !== null) await trimmer.carryRoomForward(roomId, keepLast); // recorded already, unless set before rooms recorded it
    return;
  }
  const narrower = keepLast !== null && (current === null || keepLast < current);
  if (narrower) await trimmer.carryRoomForward(roomId, keepLast);
  await store.setStreamRetention(stream, { maxCount: keepLast });
  if (!narrower) await trimmer.carryRoomForward(roomId, keepLast);
}

/**
 * Where events stored at or after `since` begin in `first..head` (every event below the returned
 * revision is older), or null when none is that new: a binary search over single-event reads (a
 * stream's events are in time order), so a room's age cut costs about log2(its length) reads, not
 * a read of everything it is about to drop. What a store without a scan uses instead of one.
 */
export async function firstRevisionSince(store: EventStore, stream: string, since: number, first: number, head: number): Promise<number | null> {
  let low = first;
  let high = head + 1; // invariant: everything below `low` is older; `high` is at or after `since` (head + 1: none)
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    const [event] = await store.readStream(stream, { fromRevision: mid, limit: 1 });
    if (!event) return null;
    // Revisions in mid..event.revision-1 do not exist (retention gaps), so `mid` cuts as well.
    if (event.createdAt >= since) high = mid;
    else low = event.revision + 1;
  }
  return high > head ? null : high;
}
