import { snapshotDue } from '../../retention/snapshotCarrier.js';
import type { RunCommandPorts } from '../runCommand.js';
import { trimHistory } from './trimHistory.js';

export type CarryRoomForward = (roomId: string, keepLast: number | null) => Promise<void>;

/**
 * Before a store starts keeping only a room's newest `keepLast` events (null: all again): makes
 * sure a snapshot of the room is among them and records the window in it (from then on the command
 * handler's snapshot carrier, on every node, keeps a snapshot inside that window: see
 * src/retention/snapshotCarrier.ts). A system command.
 */
export function carryRoomForward(ports: RunCommandPorts): CarryRoomForward {
  const trim = trimHistory(ports);
  return async (roomId, keepLast) => {
    const state = await ports.commands.load(roomId);
    if (!state.room) return;
    if (state.keepLast === keepLast && (keepLast === null || !snapshotDue(state, keepLast))) return;
    // Appended at revision + 1, it is the newest event; the cut keeps exactly the newest keepLast.
    await trim(roomId, keepLast === null ? 1 : state.revision + 2 - keepLast, { carrySnapshot: true, keepLast });
  };
}
