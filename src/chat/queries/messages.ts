import type { UserRef } from '../../domain/events.js';
import type { MessageView } from '../../../projections/views.js';
import type { ChatPorts } from '../ports.js';
import type { RoomAccess } from '../roomAccess.js';
import * as valid from '../validate.js';
import { readAtLeast, roomPosition, type FreshReadPorts } from './freshReads.js';

export type MessagesQuery = (
  viewer: UserRef | null,
  roomId: string,
  range: { before?: number | null; after?: number | null; limit?: number | null },
) => Promise<MessageView[]>;

/**
 * History with edits and deletes applied, from the read models, for those who may read the room;
 * current as of the read's start (freshReads.ts): never without a message acknowledged before.
 */
export function messages(ports: Pick<ChatPorts, 'readModels'> & FreshReadPorts & { access: RoomAccess }): MessagesQuery {
  return async (viewer, roomId, range) => {
    await ports.access.assertCanRead(viewer, roomId);
    const query = {
      before: valid.seq(range.before, 'before'),
      after: valid.seq(range.after, 'after'),
      limit: valid.limit(range.limit, 50, 200),
    };
    return readAtLeast(ports, await roomPosition(ports, roomId), 'the history', (at) => ports.readModels.messages(roomId, query, at));
  };
}
