import type { RoomView } from '../projections/views.js';
import { builder } from './builder.js';
import { PresenceType } from './presence.js';

export const RoomType = builder.objectRef<RoomView>('Room').implement({
  description: 'A chat room. Every event in it has the next per-room seq.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    private: t.exposeBoolean('private', { description: 'Password protected: only members read it.' }),
    headSeq: t.exposeInt('headSeq', { description: 'Seq of the newest event in the room, 0 when empty.' }),
    oldestSeq: t.exposeInt('oldestSeq', { description: 'Oldest seq still retained.' }),
    memberCount: t.exposeInt('memberCount'),
    createdAt: t.field({ type: 'DateTime', resolve: (room) => room.createdAt }),
    presence: t.field({
      type: PresenceType,
      resolve: async (room, _args, ctx) => {
        if (room.private) await ctx.chat.assertCanRead(ctx.viewer, room.id);
        return ctx.subscriptions.presenceSnapshot(room.id);
      },
    }),
  }),
});
