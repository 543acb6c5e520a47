import type { RoomCommand, RoomState } from '../domain/room.js';

/*
 * Retention by stream metadata (EventStoreDB's $maxCount): the store keeps only a room stream's
 * newest `keepLast` events and drops older ones whole, RoomCreated and joins included. So a
 * HistoryTrimmed carrying the room's snapshot must always be inside that window: the room can
 * then be folded from what is left. Pure: the command handler asks after each batch (its
 * `afterBatch` hook), and the same rule says when a room needs one before the limit is set.
 */

/** True when the newest foldable event (RoomCreated or a snapshot) is half the window old. */
export function snapshotDue(state: RoomState, keepLast: number): boolean {
  return state.room !== null && state.revision - state.foldableFrom >= Math.max(1, Math.floor(keepLast / 2));
}

/**
 * The command handler's `afterBatch` hook for a store keeping `keepLast` events per room: a
 * snapshot-carrying trim whenever one is due. Appended last, at revision t, it stays in the window
 * until t + keepLast; the next one is due at t + keepLast/2, so a snapshot is always inside.
 */
export function snapshotCarrier(ownSetting?: number): (state: RoomState, nextRevision: number) => RoomCommand | null {
  return (state, nextRevision) => {
    // The window the ROOM records (the stream's `$maxCount`, set by whichever node's retention
    // ran), not this node's setting, which other nodes may not share: a node with a larger
    // setting, or none, would let the last snapshot fall out of a smaller window. Its own setting
    // counts only until its retention job has recorded one.
    const keepLast = state.keepLast ?? ownSetting;
    if (keepLast === undefined) return null;
    return snapshotDue(state, keepLast) ? { type: 'TrimHistory', beforeSeq: nextRevision - keepLast + 1, carrySnapshot: true } : null;
  };
}
