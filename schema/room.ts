import type { RoomView } from '../projections/views.js';
import { forbidden } from '../src/domain/errors.js';
import { isHidden, type HiddenRoomView } from '../src/chat/roomVisibility.js';
import { builder } from './builder.js';
import { PresenceType } from './presence.js';

/**
 * A room as its viewer may see it: in full, or (a private room seen by a non-member) only `id` and
 * `private`. The other fields stay non-null in the schema and are refused with FORBIDDEN one by
 * one, so a non-member selecting them gets an error that says why instead of made-up values.
 */
const shown = (room: RoomView | HiddenRoomView): RoomView => {
  if (isHidden(room)) throw forbidden('this room is private: only its members see more than its id');
  return room;
};

export const RoomType = builder.objectRef<RoomView | HiddenRoomView>('Room').implement({
  description: 'A chat room. Every event in it has the next per-room seq.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.string({ resolve: (room) => shown(room).name }),
    private: t.exposeBoolean('private', { description: 'Password protected: only members read it.' }),
    headSeq: t.int({ description: 'Seq of the newest event in the room, 0 when empty.', resolve: (room) => shown(room).headSeq }),
    oldestSeq: t.int({ description: 'Oldest seq still retained.', resolve: (room) => shown(room).oldestSeq }),
    memberCount: t.int({ resolve: (room) => shown(room).memberCount }),
    createdAt: t.field({ type: 'DateTime', resolve: (room) => shown(room).createdAt }),
    presence: t.field({
      type: PresenceType,
      resolve: async (room, _args, ctx) => {
        if (shown(room).private) await ctx.chat.assertCanRead(ctx.viewer, room.id);
        return ctx.subscriptions.presenceSnapshot(room.id);
      },
    }),
  }),
});
