import type { UserRef } from '../../domain/events.js';
import { newRoomId } from '../../domain/ids.js';
import { addressKey } from '../../limits/addressKey.js';
import type { RoomView } from '../../../projections/views.js';
import { limitWrite, type LimitPorts } from '../limitWrite.js';
import type { ChatPorts } from '../ports.js';
import { roomAfter } from '../readBack.js';
import { runCommand, type RunCommandPorts } from '../runCommand.js';
import * as valid from '../validate.js';

export type CreateRoom = (viewer: UserRef | null, name: string, password?: string | null, address?: string | null) => Promise<RoomView>;

/**
 * Creates a room and joins its creator; with a password the room is private (only its hash is
 * kept). Limited per user and per client address, both counted before the password is hashed.
 */
export function createRoom(ports: RunCommandPorts & LimitPorts & Pick<ChatPorts, 'readModels' | 'limits' | 'passwords'>): CreateRoom {
  return async (viewer, name, password, address) => {
    const by = valid.viewer(viewer);
    const roomName = valid.displayName(name, 'room name', ports.limits.maxNameChars);
    const clear = valid.password(password);
    await limitWrite(ports, 'createRoom', by.id, by.id);
    if (address) await limitWrite(ports, 'roomPerAddress', addressKey(address), by.id);
    const passwordHash = clear === null ? null : await ports.passwords.hash(clear);
    const roomId = newRoomId();
    const outcome = await runCommand(ports, 'createRoom', roomId, () => ({ type: 'CreateRoom', roomId, name: roomName, passwordHash, by }));
    return roomAfter(ports, roomId, outcome);
  };
}
