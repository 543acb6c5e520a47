import type { EventStore } from '../eventStore/eventStore.js';
import {
  deletesOldEvents,
  keepsStreamMetadata,
  type DeletesOldEvents,
  type KeepsStreamMetadata,
} from '../eventStore/retentionCapabilities.js';

/**
 * How a store forgets old events, decided once from the capability it declares: everything that
 * depends on it (the retention job, and whether a room's commands must keep a snapshot inside a
 * `$maxCount` window) asks here instead of probing the store itself.
 *
 * A store that can delete is trimmed by deleting, even if it could keep metadata too: deleting
 * keeps a room's structural events, so it needs no snapshots.
 */
export type RetentionStrategy =
  | { kind: 'deleteOldEvents'; store: EventStore & DeletesOldEvents }
  | { kind: 'streamMetadata'; store: EventStore & KeepsStreamMetadata }
  | { kind: 'none' };

export function retentionStrategyOf(store: EventStore): RetentionStrategy {
  if (deletesOldEvents(store)) return { kind: 'deleteOldEvents', store };
  if (keepsStreamMetadata(store)) return { kind: 'streamMetadata', store };
  return { kind: 'none' };
}

/**
 * Whether the store drops a stream's whole prefix (RoomCreated and the joins too), so that a room
 * must always have a snapshot of itself inside what the store keeps.
 */
export function dropsStreamPrefixes(store: EventStore): boolean {
  return retentionStrategyOf(store).kind === 'streamMetadata';
}
