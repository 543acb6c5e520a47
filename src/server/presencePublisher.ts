import type { Broker } from '../broker/broker.js';
import { presenceChannel } from '../broker/broker.js';
import type { Logger } from '../../common/logger.js';
import type { PresenceStore } from '../presence/presenceStore.js';

/** How long changes of one room's presence are gathered before its snapshot is published. */
export const PRESENCE_COALESCE_MS = 50;

/**
 * Every change of a room's presence goes to its subscribers on every node, as a snapshot of the
 * room (who is online, who is typing). Changes are gathered per room for `delayMs` and published
 * as one snapshot, taken after the wait, so it holds all of them.
 *
 * Publishing one snapshot per change made a crowd joining a room quadratic: each of n joins read
 * and sent the whole list of the room's users (n entries), so 2,000 subscribers connecting to one
 * room cost about 2 million entries read, parsed and published. Gathered, a burst of joins is a
 * few snapshots; presence shows up to `delayMs` later. A change during a publish schedules the
 * next one, so the last snapshot published is never older than the last change.
 */
export function publishPresenceChanges(presence: PresenceStore, broker: Broker, log: Logger, delayMs = PRESENCE_COALESCE_MS): { close(): void } {
  const scheduled = new Map<string, ReturnType<typeof setTimeout>>();
  const publish = (roomId: string) => {
    scheduled.delete(roomId);
    presence
      .snapshot(roomId)
      .then((view) => broker.publish(presenceChannel(roomId), view))
      .catch((error) => log.warn({ err: error, roomId }, 'presence publish failed'));
  };
  presence.onChange((roomId) => {
    if (scheduled.has(roomId)) return;
    const timer = setTimeout(publish, delayMs, roomId);
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
