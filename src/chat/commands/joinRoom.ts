import { verifyPassword } from '../../auth/passwords.js';
import type { UserRef } from '../../domain/events.js';
import type { RoomView } from '../../../projections/views.js';
import type { ChatPorts } from '../ports.js';
import { roomAfter } from '../readBack.js';
import { runCommand, type RunCommandPorts } from '../runCommand.js';
import * as valid from '../validate.js';

export type JoinRoom = (viewer: UserRef | null, roomId: string, password?: string | null) => Promise<RoomView>;

/** Joins a room; a private one only with its password. Joining twice is a no-op. */
export function joinRoom(ports: RunCommandPorts & Pick<ChatPorts, 'readModels'>): JoinRoom {
  return async (viewer, roomId, password) => {
    const user = valid.viewer(viewer);
    valid.id(roomId, 'roomId');
    const outcome = await runCommand(ports, 'joinRoom', roomId, async (state) => {
      // Checked while building the command: the room's password hash is in the state it is decided on.
      const hash = state.room?.passwordHash ?? null;
      const passwordAccepted = hash === null || (typeof password === 'string' && (await verifyPassword(password, hash)));
      return { type: 'JoinRoom', user, passwordAccepted };
    });
    return roomAfter(ports, roomId, outcome);
  };
}
