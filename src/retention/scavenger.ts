import type { Logger } from 'pino';
import type { ChatService } from '../chat/chatService.js';
import { TRIMMABLE_EVENT_TYPES, roomIdOfStream } from '../domain/events.js';
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
 * Retention, as a periodic job on every node (idempotent, so several nodes running it is fine):
 * for each room whose messages fall outside the policy, first record the decision in the room's
 * own log (a HistoryTrimmed event, so read models, subscribers and other nodes learn of it the
 * way they learn of everything else), then delete the message events below it. Joins, leaves and
 * the room's creation are kept: the room is folded from them.
 */
export function startRetention(options: { store: EventStore; chat: ChatService; policy: RetentionPolicy; log: Logger }) {
  const { store, chat, policy, log } = options;
  const active = policy.maxAgeMs !== undefined || policy.maxCount !== undefined;
  let running: Promise<number> | null = null;
  let warned = false;

  async function runOnce(): Promise<number> {
    if (!active) return 0;
    if (!store.trimStream || !store.retentionScan) {
      if (!warned) log.warn('retention is configured but this event store cannot trim (SQLite only for now); nothing is removed');
      warned = true;
      return 0;
    }
    const since = policy.maxAgeMs !== undefined ? Date.now() - policy.maxAgeMs : Number.MAX_SAFE_INTEGER;
    let deleted = 0;
    for (const room of await store.retentionScan({ prefix: 'room-', since })) {
      const roomId = roomIdOfStream(room.stream);
      const before = trimPoint(room, policy);
      if (!roomId || before <= 1) continue;
      const trimmedBefore = await chat.trimHistory(roomId, before);
      deleted += await store.trimStream(room.stream, { beforeRevision: trimmedBefore, types: TRIMMABLE_EVENT_TYPES });
    }
    if (deleted > 0) log.info({ deleted }, 'retention removed old messages');
    return deleted;
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
    runOnce,
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}

/** `30d`, `12h`, `90m`, `45s`, or a number of seconds. */
export function parseDuration(value: string): number | null {
  const match = /^(\d+)\s*(d|h|m|s)?$/.exec(value.trim());
  if (!match) return null;
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 }[(match[2] ?? 's') as 'd' | 'h' | 'm' | 's'];
  return Number(match[1]) * unit;
}
