import type { UserRef } from '../../domain/events.js';
import type { MessageView } from '../../../projections/views.js';
import type { ChatPorts } from '../ports.js';
import type { RoomAccess } from '../roomAccess.js';
import * as valid from '../validate.js';

export type MessagesQuery = (
  viewer: UserRef | null,
  roomId: string,
  range: { before?: number | null; after?: number | null; limit?: number | null },
) => Promise<MessageView[]>;

/** History with edits and deletes applied, from the read models, for those who may read the room. */
export function messages(ports: Pick<ChatPorts, 'readModels'> & { access: RoomAccess }): MessagesQuery {
  return async (viewer, roomId, range) => {
    await ports.access.assertCanRead(viewer, roomId);
    return ports.readModels.messages(roomId, {
      before: valid.seq(range.before, 'before'),
      after: valid.seq(range.after, 'after'),
      limit: valid.limit(range.limit, 50, 200),
    });
  };
}
