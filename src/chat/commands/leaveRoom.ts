import type { UserRef } from '../../domain/events.js';
import type { RoomView } from '../../../projections/views.js';
import { limitWrite, type LimitPorts } from '../limitWrite.js';
import type { ChatPorts } from '../ports.js';
import { roomAfter } from '../readBack.js';
import { runCommand, type RunCommandPorts } from '../runCommand.js';
import * as valid from '../validate.js';

export type LeaveRoom = (viewer: UserRef | null, roomId: string) => Promise<RoomView>;

/**
 * Leaves a room (a no-op for a non-member, and then not counted against the join limit: joins and
 * leaves share one budget, so join/leave spam cannot fill the log). The MemberLeft event ends the
 * leaver's open subscriptions to the room on every node (src/fanout/subscriptions.ts).
 */
export function leaveRoom(ports: RunCommandPorts & LimitPorts & Pick<ChatPorts, 'readModels'>): LeaveRoom {
  return async (viewer, roomId) => {
    const user = valid.viewer(viewer);
    valid.id(roomId, 'roomId');
    const state = await ports.commands.load(roomId);
    if (state.members.has(user.id)) await limitWrite(ports, 'membership', user.id, user.id);
    const outcome = await runCommand(ports, 'leaveRoom', roomId, () => ({ type: 'LeaveRoom', user }));
    return roomAfter(ports, roomId, outcome);
  };
}
