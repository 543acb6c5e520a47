import type { MessageView } from '../projections/views.js';
import { builder } from './builder.js';
import { UserType } from './user.js';

export const MessageType = builder.objectRef<MessageView>('Message').implement({
  description: 'A message with its edits and deletion applied (the history projection).',
  fields: (t) => ({
    id: t.exposeID('id'),
    clientMessageId: t.exposeID('clientMessageId'),
    roomId: t.exposeID('roomId'),
    seq: t.exposeInt('seq', { description: 'Seq of its MessagePosted event.' }),
    author: t.field({ type: UserType, resolve: (message) => message.author }),
    body: t.exposeString('body', { description: '"" once deleted.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (message) => message.createdAt }),
    editedAt: t.field({ type: 'DateTime', nullable: true, resolve: (message) => message.editedAt }),
    deleted: t.exposeBoolean('deleted'),
  }),
});
