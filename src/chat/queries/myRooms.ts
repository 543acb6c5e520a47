import type { UserRef } from '../../domain/events.js';
import type { RoomView } from '../../../projections/views.js';
import type { ChatPorts } from '../ports.js';
import * as valid from '../validate.js';
import { readAtLeast, type FreshReadPorts } from './freshReads.js';

export type MyRoomsQuery = (viewer: UserRef | null) => Promise<RoomView[]>;

/** As many as the room directory lists: a user's joins are rate limited, so few ever reach it. */
export const MAX_MY_ROOMS = 500;

/**
 * The rooms the viewer is a member of, private ones included (they are the viewer's own), newest
 * activity first, each with its headSeq (a client keeps the last seq it read per room and shows
 * the difference as unread). Current as of the read's start (the whole log's head: a join or
 * leave acknowledged before is reflected, on any node).
 */
export function myRooms(ports: Pick<ChatPorts, 'readModels'> & FreshReadPorts): MyRoomsQuery {
  return async (viewer) => {
    const user = valid.viewer(viewer);
    return readAtLeast(ports, await ports.store.headPosition(), 'your room list', (at) => ports.readModels.memberRooms(user.id, MAX_MY_ROOMS, at));
  };
}
