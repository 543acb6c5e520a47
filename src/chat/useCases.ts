import type { RoomTrimmer } from '../retention/roomTrimmer.js';
import { carryRoomForward } from './commands/carryRoomForward.js';
import { createRoom, type CreateRoom } from './commands/createRoom.js';
import { createSession, type CreateSession } from './commands/createSession.js';
import { deleteMessage, type DeleteMessage } from './commands/deleteMessage.js';
import { editMessage, type EditMessage } from './commands/editMessage.js';
import { joinRoom, type JoinRoom } from './commands/joinRoom.js';
import { leaveRoom, type LeaveRoom } from './commands/leaveRoom.js';
import { renameSelf, type RenameSelf } from './commands/renameSelf.js';
import { sendMessage, type SendMessage } from './commands/sendMessage.js';
import { setTyping, type SetTyping } from './commands/setTyping.js';
import { trimHistory } from './commands/trimHistory.js';
import type { ChatPorts } from './ports.js';
import { messages, type MessagesQuery } from './queries/messages.js';
import { myRooms, type MyRoomsQuery } from './queries/myRooms.js';
import { room } from './queries/room.js';
import { roomEvents, type RoomEventsQuery } from './queries/roomEvents.js';
import { rooms, type RoomsQuery } from './queries/rooms.js';
import type { RoomAccess } from './roomAccess.js';
import { hidePrivateRooms, type RoomLookup } from './roomVisibility.js';

/**
 * What the GraphQL resolvers call (as `ctx.chat`): one function per command and query of the API,
 * plus the read check that fields of private rooms (Room.presence) make. Plain functions, so a
 * resolver can pass one on without binding it.
 */
export interface ChatUseCases extends RoomAccess {
  createSession: CreateSession;
  createRoom: CreateRoom;
  joinRoom: JoinRoom;
  leaveRoom: LeaveRoom;
  renameSelf: RenameSelf;
  sendMessage: SendMessage;
  editMessage: EditMessage;
  deleteMessage: DeleteMessage;
  setTyping: SetTyping;
  room: RoomLookup;
  rooms: RoomsQuery;
  myRooms: MyRoomsQuery;
  messages: MessagesQuery;
  roomEvents: RoomEventsQuery;
}

/** Assembles the API's use cases over the ports (src/server/services.ts picks the adapters). */
export function createUseCases(ports: ChatPorts, access: RoomAccess): ChatUseCases {
  return {
    createSession: createSession(ports),
    createRoom: createRoom(ports),
    joinRoom: joinRoom(ports),
    leaveRoom: leaveRoom(ports),
    renameSelf: renameSelf(ports),
    sendMessage: sendMessage(ports),
    editMessage: editMessage(ports),
    deleteMessage: deleteMessage(ports),
    setTyping: setTyping(ports),
    room: hidePrivateRooms(room(ports), access),
    rooms: rooms(ports),
    myRooms: myRooms(ports),
    messages: messages({ ...ports, access }),
    roomEvents: roomEvents({ ...ports, access }),
    assertCanRead: (viewer, roomId) => access.assertCanRead(viewer, roomId),
  };
}

/**
 * The system commands retention runs, apart from the API's: no resolver can reach them, and
 * retention sees only this narrow shape.
 */
export function createRoomTrimmer(ports: ChatPorts): RoomTrimmer {
  return { trimHistory: trimHistory(ports), carryRoomForward: carryRoomForward(ports) };
}
