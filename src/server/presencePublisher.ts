import type { Broker } from '../broker/broker.js';
import { presenceChannel } from '../broker/broker.js';
import type { Logger } from '../../common/logger.js';
import type { PresenceStore } from '../presence/presenceStore.js';

/** How long changes of one room's presence are gathered, at least, before its snapshot is published. */
export const PRESENCE_COALESCE_MS = 50;
/** Added to the wait per user the room's last snapshot held: a snapshot costs in proportion to them. */
export const PRESENCE_COALESCE_MS_PER_USER = 0.1;
/** The longest a change waits, however large the room (10,000 users and more). */
export const PRESENCE_COALESCE_MAX_MS = 1_000;

export interface PresencePublishTiming {
  delayMs?: number;
  perUserMs?: number;
  maxMs?: number;
}

/**
 * Every change of a room's presence goes to its subscribers on every node, as a snapshot of the
 * room (who is online, who is typing). Changes are gathered per room and published as one
 * snapshot, taken after the wait, so it holds all of them.
 *
 * Publishing one snapshot per change made a crowd joining a room quadratic: each of n joins read
 * and sent the whole list of the room's users (n entries), so 2,000 subscribers connecting to one
 * room cost about 2 million entries read, parsed and published. A fixed wait still left it
 * quadratic over a long burst: a snapshot every 50 ms, each as large as the room. So the wait
 * grows with the room: `delayMs`, plus `perUserMs` for each user its last snapshot held, at most
 * `maxMs`. Reading and sending a snapshot costs about the same per user as that, so a room costs
 * its node a bounded share of a core whatever its size; a room of 2,000 shows a change within
 * 250 ms, a room of 10 within 51. A change during a publish schedules the next one, so the last
 * snapshot published is never older than the last change. A room whose presence nobody follows
 * (on any node) publishes nothing: subscribers of its events alone do not pay for snapshots.
 */
export function publishPresenceChanges(presence: PresenceStore, broker: Broker, log: Logger, timing: PresencePublishTiming = {}): { close(): void } {
  const { delayMs = PRESENCE_COALESCE_MS, perUserMs = PRESENCE_COALESCE_MS_PER_USER, maxMs = PRESENCE_COALESCE_MAX_MS } = timing;
  const scheduled = new Map<string, ReturnType<typeof setTimeout>>();
  /** The count of each room's last snapshot, for rooms that had anyone online in it. */
  const lastCount = new Map<string, number>();
  const publish = async (roomId: string) => {
    scheduled.delete(roomId);
    const channel = presenceChannel(roomId);
    // Nobody follows the room's presence: no snapshot to read and send. Whoever subscribes later
    // reads their own snapshot once subscribed (Subscriptions.presence), so skipping loses nothing.
    if (!(await broker.followed(channel))) {
      // Its size is no longer known (and the room may never be watched again: forget it).
      lastCount.delete(roomId);
      return;
    }
    const view = await presence.snapshot(roomId);
    if (view.count > 0) lastCount.set(roomId, view.count);
    else lastCount.delete(roomId);
    await broker.publish(channel, view);
  };
  presence.onChange((roomId) => {
    if (scheduled.has(roomId)) return;
    const wait = Math.min(maxMs, delayMs + (lastCount.get(roomId) ?? 0) * perUserMs);
    const timer = setTimeout(() => publish(roomId).catch((error) => log.warn({ err: error, roomId }, 'presence publish failed')), wait);
    timer.unref();
    scheduled.set(roomId, timer);
  });
  return {
    close() {
      for (const timer of scheduled.values()) clearTimeout(timer);
      scheduled.clear();
    },
  };
}
