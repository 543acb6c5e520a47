import { hashPassword } from '../../auth/passwords.js';
import type { UserRef } from '../../domain/events.js';
import { newRoomId } from '../../domain/ids.js';
import type { RoomView } from '../../../projections/views.js';
import type { ChatPorts } from '../ports.js';
import { roomAfter } from '../readBack.js';
import { runCommand, type RunCommandPorts } from '../runCommand.js';
import * as valid from '../validate.js';

export type CreateRoom = (viewer: UserRef | null, name: string, password?: string | null) => Promise<RoomView>;

/** Creates a room and joins its creator; with a password the room is private (only its hash is kept). */
export function createRoom(ports: RunCommandPorts & Pick<ChatPorts, 'readModels' | 'limits'>): CreateRoom {
  return async (viewer, name, password) => {
    const by = valid.viewer(viewer);
    const roomName = valid.displayName(name, 'room name', ports.limits.maxNameChars);
    const clear = valid.password(password);
    const passwordHash = clear === null ? null : await hashPassword(clear);
    const roomId = newRoomId();
    const outcome = await runCommand(ports, 'createRoom', roomId, () => ({ type: 'CreateRoom', roomId, name: roomName, passwordHash, by }));
    return roomAfter(ports, roomId, outcome);
  };
}
