import type { UserRef } from '../domain/events.js';
import { ForbiddenError, UnauthenticatedError } from '../domain/errors.js';
import type { RoomView } from '../../projections/views.js';
import type { RoomQuery } from './queries/room.js';
import type { RoomAccess } from './roomAccess.js';

/** What a non-member may know of a private room: that it exists, and that it is private. */
export interface HiddenRoomView {
  id: string;
  private: true;
  hidden: true;
}

export type RoomLookup = (viewer: UserRef | null, roomId: string) => Promise<RoomView | HiddenRoomView | null>;

export const isHidden = (room: RoomView | HiddenRoomView): room is HiddenRoomView => 'hidden' in room;

/**
 * `room(id)` as the API answers it: a public room in full to anyone, a private one in full to its
 * members only. Anyone else (also without a session) learns that it exists and is private, so a
 * join form can ask for the password; its name, headSeq (which would let its activity be
 * watched), member count and creation time stay with its members.
 */
export function hidePrivateRooms(room: RoomQuery, access: RoomAccess): RoomLookup {
  return async (viewer, roomId) => {
    const view = await room(roomId);
    if (!view?.private) return view;
    try {
      await access.assertCanRead(viewer, roomId);
      return view;
    } catch (error) {
      if (error instanceof ForbiddenError || error instanceof UnauthenticatedError) return { id: view.id, private: true, hidden: true };
      throw error;
    }
  };
}
