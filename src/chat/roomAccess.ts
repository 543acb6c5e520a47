import type { UserRef } from '../domain/events.js';
import { forbidden, notFound } from '../domain/errors.js';
import type { RoomStates } from './ports.js';
import * as valid from './validate.js';

/** Who may read a room: asked by the read queries, the subscriptions and the Room.presence field. */
export interface RoomAccess {
  /**
   * Resolves with the viewer and the oldest seq whose messages retention kept (1 until it removes
   * any), plus the room's seq the check was made at and whether the room is private (a leave
   * after that seq ends the viewer's subscriptions: src/fanout/subscriptions.ts); rejects when
   * the viewer may not read the room.
   */
  assertCanRead(viewer: UserRef | null, roomId: string): Promise<ReadGrant>;
}

export interface ReadGrant {
  user: UserRef;
  oldestSeq: number;
  /** The room's seq the check was made at. */
  checkedAt: number;
  private: boolean;
}

/**
 * Anyone with a session reads a public room; a private room only its members. Checked against the
 * room's state caught up with the log, not the read models, so a join is honoured at once; the
 * oldest kept seq comes from the same load.
 */
export function createRoomAccess(ports: { commands: RoomStates }): RoomAccess {
  return {
    async assertCanRead(viewer, roomId) {
      const user = valid.viewer(viewer);
      const state = await ports.commands.load(valid.id(roomId, 'roomId'));
      if (!state.room) throw notFound('room');
      if (state.room.passwordHash !== null && !state.members.has(user.id)) {
        throw forbidden('this room is private: join it with its password first');
      }
      return { user, oldestSeq: state.trimmedBefore, checkedAt: state.revision, private: state.room.passwordHash !== null };
    },
  };
}
