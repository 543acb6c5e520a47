import { builder } from './builder.js';
import { MessageType } from './message.js';
import { RoomType } from './room.js';
import { RoomEventInterface } from './roomEvent.js';
import { UserType } from './user.js';

builder.queryFields((t) => ({
  me: t.field({ type: UserType, nullable: true, resolve: (_root, _args, ctx) => ctx.viewer }),
  room: t.field({
    type: RoomType,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.chat.room(ctx.viewer, String(id)),
  }),
  rooms: t.field({
    type: [RoomType],
    description: 'Public rooms, most active first.',
    resolve: (_root, _args, ctx) => ctx.chat.rooms(),
  }),
  myRooms: t.field({
    type: [RoomType],
    description:
      "The rooms the session's user is a member of, private ones included, most active first (at most 500). Each room's headSeq against the last seq a client has read of it gives the unread count. Needs a session (UNAUTHENTICATED without).",
    resolve: (_root, _args, ctx) => ctx.chat.myRooms(ctx.viewer),
  }),
  messages: t.field({
    type: [MessageType],
    description: 'History (edits and deletes applied), ascending seq: the newest `limit` before `before`, or the oldest `limit` after `after`.',
    args: {
      roomId: t.arg.id({ required: true }),
      before: t.arg.int(),
      after: t.arg.int(),
      limit: t.arg.int({ defaultValue: 50 }),
    },
    resolve: (_root, args, ctx) => ctx.chat.messages(ctx.viewer, String(args.roomId), args),
  }),
  roomEvents: t.field({
    type: [RoomEventInterface],
    description: 'Raw replay of the room log, ascending seq, from afterSeq+1.',
    args: {
      roomId: t.arg.id({ required: true }),
      afterSeq: t.arg.int({ defaultValue: 0 }),
      limit: t.arg.int({ defaultValue: 100 }),
    },
    resolve: (_root, args, ctx) => ctx.chat.roomEvents(ctx.viewer, String(args.roomId), args.afterSeq, args.limit),
  }),
}));
