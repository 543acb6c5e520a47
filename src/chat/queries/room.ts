import type { RoomView } from '../../../projections/views.js';
import type { ChatPorts } from '../ports.js';
import * as valid from '../validate.js';

export type RoomQuery = (roomId: string) => Promise<RoomView | null>;

/**
 * One room's view by id, private ones included, without a session: joining a private room by its
 * id needs to show what is being joined. What is inside is guarded instead (messages, roomEvents,
 * and the Room.presence field).
 */
export function room(ports: Pick<ChatPorts, 'readModels'>): RoomQuery {
  return (roomId) => ports.readModels.room(valid.id(roomId, 'roomId'));
}
