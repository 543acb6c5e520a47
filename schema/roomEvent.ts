import type { RoomEvent } from '../src/domain/events.js';
import { builder } from './builder.js';
import { MessageType } from './message.js';
import { UserType } from './user.js';
import type { MessageView } from '../projections/views.js';
import { projectMessage } from '../projections/history.js';

/*
 * Every resolver below is synchronous and depends on the event alone, never on the viewer: the
 * WebSocket fan-out executes a subscription's selection ONCE per event and shares the result with
 * every subscriber of the same operation (see src/server/sharedExecution.ts).
 */
type Of<T extends RoomEvent['type']> = Extract<RoomEvent, { type: T }>;

export const RoomEventInterface = builder.interfaceRef<RoomEvent>('RoomEvent').implement({
  description: 'Something that happened in a room, at its per-room seq.',
  resolveType: (event) => event.type,
  fields: (t) => ({
    seq: t.exposeInt('seq'),
    roomId: t.id({ resolve: (event) => event.data.roomId }),
    at: t.field({ type: 'DateTime', resolve: (event) => event.at }),
  }),
});

const eventType = <T extends RoomEvent['type']>(name: T, description: string) =>
  builder.objectRef<Of<T>>(name).implement({
    description,
    interfaces: [RoomEventInterface],
    isTypeOf: (event) => (event as RoomEvent).type === name,
    fields: () => ({}),
  });

export const RoomCreatedType = eventType('RoomCreated', 'The room was created (always seq 1).');
builder.objectFields(RoomCreatedType, (t) => ({
  name: t.string({ resolve: (event) => event.data.name }),
  private: t.boolean({ resolve: (event) => event.data.passwordHash !== null }),
  createdBy: t.field({ type: UserType, resolve: (event) => event.data.createdBy }),
}));

export const MessagePostedType = eventType('MessagePosted', 'A message was sent.');
builder.objectFields(MessagePostedType, (t) => ({
  message: t.field({
    type: MessageType,
    description: 'The message as it was posted (later edits come as their own events).',
    resolve: (event): MessageView => projectMessage(undefined, event)!,
  }),
}));

export const MessageEditedType = eventType('MessageEdited', 'A message was edited by its author.');
builder.objectFields(MessageEditedType, (t) => ({
  messageId: t.id({ resolve: (event) => event.data.messageId }),
  body: t.string({ resolve: (event) => event.data.body }),
}));

export const MessageDeletedType = eventType('MessageDeleted', 'A message was deleted by its author.');
builder.objectFields(MessageDeletedType, (t) => ({
  messageId: t.id({ resolve: (event) => event.data.messageId }),
}));

export const MemberJoinedType = eventType('MemberJoined', 'Someone joined the room.');
builder.objectFields(MemberJoinedType, (t) => ({
  user: t.field({ type: UserType, resolve: (event) => event.data.user }),
}));

export const MemberLeftType = eventType('MemberLeft', 'Someone left the room.');
builder.objectFields(MemberLeftType, (t) => ({
  user: t.field({ type: UserType, resolve: (event) => event.data.user }),
}));

export const MemberRenamedType = eventType('MemberRenamed', 'A member took a new display name (the same user): from this seq on the room knows them by `user.name`.');
builder.objectFields(MemberRenamedType, (t) => ({
  user: t.field({ type: UserType, description: 'The member under the new name.', resolve: (event) => event.data.user }),
  previousName: t.string({ resolve: (event) => event.data.previousName }),
}));

export const HistoryTrimmedType = eventType(
  'HistoryTrimmed',
  'Retention removed what came before `beforeSeq`: the messages (posts, edits, deletes), and on stores that cut a stream prefix (EventStoreDB) every earlier event. Seqs below it will not be delivered.',
);
builder.objectFields(HistoryTrimmedType, (t) => ({
  beforeSeq: t.int({ resolve: (event) => event.data.beforeSeq }),
}));
