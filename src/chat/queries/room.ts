import type { RoomView } from '../../../projections/views.js';
import type { ChatPorts } from '../ports.js';
import * as valid from '../validate.js';
import { readAtLeast, roomPosition, type FreshReadPorts } from './freshReads.js';

export type RoomQuery = (roomId: string) => Promise<RoomView | null>;

/**
 * One room's view by id, private ones included, without a session: joining a private room by its
 * id needs to show what is being joined. What is inside is guarded instead (messages, roomEvents,
 * and the Room.presence field). Current as of the read's start (freshReads.ts): its headSeq is
 * never behind a write acknowledged before, on any node.
 */
export function room(ports: Pick<ChatPorts, 'readModels'> & FreshReadPorts): RoomQuery {
  return async (roomId) => {
    const id = valid.id(roomId, 'roomId');
    return readAtLeast(ports, await roomPosition(ports, id), "the room's view", (at) => ports.readModels.room(id, at));
  };
}
