import { snapshotDue } from '../../retention/snapshotCarrier.js';
import type { RunCommandPorts } from '../runCommand.js';
import { trimHistory } from './trimHistory.js';

export type CarryRoomForward = (roomId: string, keepLast: number) => Promise<void>;

/**
 * Before a store starts keeping only a room's newest `keepLast` events: makes sure a snapshot of
 * the room is among them (from then on the command handler's snapshot carrier keeps it so, by the
 * same rule: src/retention/snapshotCarrier.ts). A system command.
 */
export function carryRoomForward(ports: RunCommandPorts): CarryRoomForward {
  const trim = trimHistory(ports);
  return async (roomId, keepLast) => {
    const state = await ports.commands.load(roomId);
    if (!snapshotDue(state, keepLast)) return;
    // Appended at revision + 1, it is the newest event; the cut keeps exactly the newest keepLast.
    await trim(roomId, state.revision + 2 - keepLast, { carrySnapshot: true });
  };
}
