import type { RoomView } from '../../../projections/views.js';
import type { ChatPorts } from '../ports.js';

export type RoomsQuery = () => Promise<RoomView[]>;

/** The room list is capped: it is a directory to pick from, not an export. */
const MAX_LISTED_ROOMS = 500;

/** Public rooms, most active first. */
export function rooms(ports: Pick<ChatPorts, 'readModels'>): RoomsQuery {
  return () => ports.readModels.publicRooms(MAX_LISTED_ROOMS);
}
