import type { UserRef } from '../../domain/events.js';
import type { RoomView } from '../../../projections/views.js';
import type { ChatPorts } from '../ports.js';
import { roomAfter } from '../readBack.js';
import { runCommand, type RunCommandPorts } from '../runCommand.js';
import * as valid from '../validate.js';

export type LeaveRoom = (viewer: UserRef | null, roomId: string) => Promise<RoomView>;

export function leaveRoom(ports: RunCommandPorts & Pick<ChatPorts, 'readModels'>): LeaveRoom {
  return async (viewer, roomId) => {
    const user = valid.viewer(viewer);
    valid.id(roomId, 'roomId');
    const outcome = await runCommand(ports, 'leaveRoom', roomId, () => ({ type: 'LeaveRoom', user }));
    return roomAfter(ports, roomId, outcome);
  };
}
