import type { RoomEventBody } from '../domain/events.js';
import { roomStream } from '../domain/events.js';
import { toRoomEvent } from '../domain/fromStored.js';
import { roomDecider, type RoomCommand, type RoomState } from '../domain/room.js';
import type { EventStore } from '../eventStore/eventStore.js';
import { CommandHandler, type CommandHandlerOptions } from './commandHandler.js';

/** The command handler of rooms: `execute(roomId, build)` and `load(roomId)`. */
export type RoomCommandHandler = CommandHandler<RoomState, RoomCommand, RoomEventBody>;

export type RoomCommandHandlerOptions = Pick<CommandHandlerOptions<RoomState, RoomCommand, RoomEventBody>, 'maxCached' | 'afterBatch'>;

/** One stream per room (`room-<id>`); anything in it that is not a room event is skipped. */
export function createRoomCommandHandler(store: Pick<EventStore, 'append' | 'readStream'>, options: RoomCommandHandlerOptions = {}): RoomCommandHandler {
  return new CommandHandler({ decider: roomDecider, store, streamName: roomStream, fromStored: toRoomEvent, ...options });
}
