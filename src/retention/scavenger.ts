import type { Logger } from 'pino';
import type { ChatService } from '../chat/chatService.js';
import { TRIMMABLE_EVENT_TYPES, roomIdOfStream, roomStream } from '../domain/events.js';
import type { EventStore } from '../eventStore/eventStore.js';

export interface RetentionPolicy {
  /** Messages older than this go. */
  maxAgeMs?: number;
  /** Only the newest this-many seqs of a room keep their messages. */
  maxCount?: number;
  intervalMs: number;
}

/** Where a room's messages should start under the policy (1 = keep everything). Pure. */
export function trimPoint(room: { head: number; firstSince: number | null }, policy: RetentionPolicy): number {
  let before = 1;
  if (policy.maxCount !== undefined) before = Math.max(before, room.head - policy.maxCount + 1);
  if (policy.maxAgeMs !== undefined) before = Math.max(before, room.firstSince ?? room.head + 1);
  return before;
}

/**
 * Retention, as a periodic job on every node (idempotent, so several nodes running it is fine).
 * Each room's decision is first recorded in its own log (a HistoryTrimmed event, so read models,
 * subscribers and other nodes learn of it the way they learn of everything else); then the store
 * drops what it no longer keeps, in the way it can:
 *
 * - **Deleting message events** (SQLite, `trimStream`): posts, edits and deletes below the cut go;
 *   joins, leaves and the room's creation stay, and the room is folded from them.
 * - **Stream metadata** (EventStoreDB, `setStreamRetention`): the store drops a stream's whole
 *   prefix, RoomCreated and joins included, so the trim event carries a snapshot of the room and
 *   the prefix goes only up to it. By count, `$maxCount` does it as events arrive (the repository
 *   appends a fresh snapshot every half window); by age, `$tb` is moved by this job. `$maxAge` is
 *   NOT used: it drops events by the clock alone, so a quiet room would lose its last snapshot
 *   (and so itself) while no node runs.
 */
export function startRetention(options: {
  store: EventStore;
  chat: ChatService;
  /** Every room (private ones too): where the metadata strategy finds the rooms to look at. */
  roomIds: () => Promise<string[]>;
  policy: RetentionPolicy;
  log: Logger;
}) {
  const { store, chat, policy, log } = options;
  const active = policy.maxAgeMs !== undefined || policy.maxCount !== undefined;
  /** Rooms whose stream already has `$maxCount` from this process. */
  const countApplied = new Set<string>();
  let running: Promise<number> | null = null;
  let warned = false;

  async function trimByDeleting(store: EventStore & Required<Pick<EventStore, 'trimStream' | 'retentionScan'>>, since: number) {
    let deleted = 0;
    for (const room of await store.retentionScan({ prefix: 'room-', since })) {
      const roomId = roomIdOfStream(room.stream);
      const before = trimPoint(room, policy);
      if (!roomId || before <= 1) continue;
      const trimmedBefore = await chat.trimHistory(roomId, before);
      deleted += await store.trimStream(room.stream, { beforeRevision: trimmedBefore, types: TRIMMABLE_EVENT_TYPES });
    }
    return deleted;
  }

  async function trimByMetadata(store: EventStore & Required<Pick<EventStore, 'setStreamRetention'>>, since: number) {
    let trimmedRooms = 0;
    for (const roomId of await options.roomIds()) {
      const stream = roomStream(roomId);
      if (policy.maxCount !== undefined && !countApplied.has(stream)) {
        // A room from before the policy: put a snapshot inside the window before ESDB enforces it.
        await chat.carryRoomForward(roomId, policy.maxCount);
        await store.setStreamRetention(stream, { maxCount: policy.maxCount });
        countApplied.add(stream);
      }
      if (policy.maxAgeMs === undefined) continue;
      const [first] = await store.readStream(stream, { limit: 1 });
      const head = await store.streamRevision(stream);
      if (!first) continue;
      const before = trimPoint({ head, firstSince: await firstRevisionSince(store, stream, since, first.revision, head) }, { maxAgeMs: policy.maxAgeMs, intervalMs: policy.intervalMs });
      // Nothing to cut, or only the snapshot a quiet room already is: cutting would only add another.
      if (before <= first.revision || (first.revision === head && first.type === 'HistoryTrimmed')) continue;
      const trimmedBefore = await chat.trimHistory(roomId, before, { carrySnapshot: true });
      await store.setStreamRetention(stream, { truncateBefore: trimmedBefore });
      trimmedRooms++;
    }
    return trimmedRooms;
  }

  async function runOnce(): Promise<number> {
    if (!active) return 0;
    const since = policy.maxAgeMs !== undefined ? Date.now() - policy.maxAgeMs : Number.MAX_SAFE_INTEGER;
    if (store.trimStream && store.retentionScan) {
      const deleted = await trimByDeleting(store as Parameters<typeof trimByDeleting>[0], since);
      if (deleted > 0) log.info({ deleted }, 'retention removed old messages');
      return deleted;
    }
    if (store.setStreamRetention) {
      const rooms = await trimByMetadata(store as Parameters<typeof trimByMetadata>[0], since);
      if (rooms > 0) log.info({ rooms }, 'retention moved the start of rooms\' streams');
      return rooms;
    }
    if (!warned) log.warn('retention is configured but this event store cannot trim; nothing is removed');
    warned = true;
    return 0;
  }

  const tick = () => {
    running ??= runOnce()
      .catch((error) => {
        log.warn({ err: error }, 'retention run failed');
        return 0;
      })
      .finally(() => (running = null));
  };
  const timer = active ? setInterval(tick, policy.intervalMs) : null;
  timer?.unref();
  return {
    /** One pass now: what it removed (SQLite: events deleted; stream metadata: rooms cut). */
    runOnce,
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}

/**
 * Where events stored at or after `since` begin in `first..head` (every event below the returned
 * revision is older), or null when none is that new: a binary
 * search over single-event reads (a stream's events are in time order), so a room's age cut costs
 * about log2(its length) reads, not a read of everything it is about to drop.
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

/** `30d`, `12h`, `90m`, `45s`, or a number of seconds. */
export function parseDuration(value: string): number | null {
  const match = /^(\d+)\s*(d|h|m|s)?$/.exec(value.trim());
  if (!match) return null;
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 }[(match[2] ?? 's') as 'd' | 'h' | 'm' | 's'];
  return Number(match[1]) * unit;
}
