import type { RoomView } from '../../../projections/views.js';
import type { ChatPorts } from '../ports.js';
import { readAtLeast, type FreshReadPorts } from './freshReads.js';

export type RoomsQuery = () => Promise<RoomView[]>;

/** The room list is capped: it is a directory to pick from, not an export. */
const MAX_LISTED_ROOMS = 500;

/** Public rooms, most active first; current as of the read's start (the whole log's head: freshReads.ts). */
export function rooms(ports: Pick<ChatPorts, 'readModels'> & FreshReadPorts): RoomsQuery {
  return async () => readAtLeast(ports, await ports.store.headPosition(), 'the room list', (at) => ports.readModels.publicRooms(MAX_LISTED_ROOMS, at));
}
