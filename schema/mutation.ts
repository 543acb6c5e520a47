import { builder } from './builder.js';
import { MessageType } from './message.js';
import { RoomType } from './room.js';
import { SessionType } from './session.js';

builder.mutationFields((t) => ({
  createSession: t.field({
    type: SessionType,
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, ctx) => ctx.chat.createSession(name, ctx.clientAddress),
  }),
  createRoom: t.field({
    type: RoomType,
    description: 'Creates a room and joins its creator. With a password, the room is private.',
    args: { name: t.arg.string({ required: true }), password: t.arg.string() },
    resolve: (_root, { name, password }, ctx) => ctx.chat.createRoom(ctx.viewer, name, password, ctx.clientAddress),
  }),
  joinRoom: t.field({
    type: RoomType,
    args: { roomId: t.arg.id({ required: true }), password: t.arg.string() },
    resolve: (_root, { roomId, password }, ctx) => ctx.chat.joinRoom(ctx.viewer, String(roomId), password, ctx.clientAddress),
  }),
  leaveRoom: t.field({
    type: RoomType,
    args: { roomId: t.arg.id({ required: true }) },
    resolve: (_root, { roomId }, ctx) => ctx.chat.leaveRoom(ctx.viewer, String(roomId)),
  }),
  renameSelf: t.field({
    type: SessionType,
    description:
      'Takes a new display name and stays the same user (same id: your messages stay yours, your private rooms stay joined). A MemberRenamed event goes into every room you are a member of. Answers a new session carrying the new name: use its token from now on (the old one keeps the old name until it expires).',
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, ctx) => ctx.chat.renameSelf(ctx.viewer, name),
  }),
  sendMessage: t.field({
    type: MessageType,
    description: 'Idempotent per (user, room, clientMessageId): a resend returns the original message.',
    args: {
      roomId: t.arg.id({ required: true }),
      body: t.arg.string({ required: true }),
      clientMessageId: t.arg.id({ required: true }),
    },
    resolve: (_root, args, ctx) => ctx.chat.sendMessage(ctx.viewer, String(args.roomId), args.body, String(args.clientMessageId)),
  }),
  editMessage: t.field({
    type: MessageType,
    args: { messageId: t.arg.id({ required: true }), body: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.chat.editMessage(ctx.viewer, String(args.messageId), args.body),
  }),
  deleteMessage: t.field({
    type: MessageType,
    args: { messageId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.chat.deleteMessage(ctx.viewer, String(args.messageId)),
  }),
  setTyping: t.boolean({
    args: { roomId: t.arg.id({ required: true }), typing: t.arg.boolean({ required: true }) },
    resolve: (_root, args, ctx) => ctx.chat.setTyping(ctx.viewer, String(args.roomId), args.typing),
  }),
}));
