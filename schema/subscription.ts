import type { RoomEvent } from '../src/domain/events.js';
import type { PresenceView } from '../src/presence/presenceView.js';
import type { NoticeView } from '../src/chat/notices.js';
import { builder } from './builder.js';
import { NoticeType } from './notice.js';
import { PresenceType } from './presence.js';
import { RoomEventInterface } from './roomEvent.js';

builder.subscriptionFields((t) => ({
  roomEvents: t.field({
    type: RoomEventInterface,
    description:
      'Every retained event with seq > afterSeq in ascending order, then live events, with no gap and no duplicate at the seam. Without afterSeq it starts live.',
    args: { roomId: t.arg.id({ required: true }), afterSeq: t.arg.int() },
    subscribe: (_root, args, ctx) =>
      ctx.subscriptions.roomEventsIterator(ctx.viewer, String(args.roomId), args.afterSeq, ctx.connectionId),
    resolve: (event: RoomEvent) => event,
  }),
  presence: t.field({
    type: PresenceType,
    description: 'The current presence at once, then every change.',
    args: { roomId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => ctx.subscriptions.presence(ctx.viewer, String(args.roomId), ctx.connectionId),
    resolve: (view: PresenceView) => view,
  }),
  notices: t.field({
    type: NoticeType,
    subscribe: (_root, _args, ctx) => ctx.subscriptions.notices(ctx.viewer),
    resolve: (notice: NoticeView) => notice,
  }),
}));
