/**
 * The GraphQL documents the client sends. Every client sends the same text for the same
 * operation, so the server can execute a roomEvents selection once for all its subscribers.
 */

const USER = 'id name';
export const MESSAGE_FIELDS = `id clientMessageId roomId seq author { ${USER} } body createdAt editedAt deleted`;
export const ROOM_FIELDS = 'id name private headSeq oldestSeq memberCount createdAt';
const PRESENCE_FIELDS = `roomId count online { ${USER} } typing { ${USER} }`;

export const ROOM_EVENTS = `subscription RoomEvents($roomId: ID!, $afterSeq: Int) {
  roomEvents(roomId: $roomId, afterSeq: $afterSeq) {
    __typename seq roomId at
    ... on MessagePosted { message { ${MESSAGE_FIELDS} } }
    ... on MessageEdited { messageId body }
    ... on MessageDeleted { messageId }
    ... on MemberJoined { user { ${USER} } }
    ... on MemberLeft { user { ${USER} } }
    ... on RoomCreated { name private createdBy { ${USER} } }
  }
}`;

export const PRESENCE = `subscription Presence($roomId: ID!) { presence(roomId: $roomId) { ${PRESENCE_FIELDS} } }`;
export const NOTICES = 'subscription Notices { notices { kind message until } }';

export const CREATE_SESSION = `mutation CreateSession($name: String!) { createSession(name: $name) { token expiresAt user { ${USER} } } }`;
export const ME = `query Me { me { ${USER} } }`;
export const ROOMS = `query Rooms { rooms { ${ROOM_FIELDS} } }`;
export const ROOM = `query Room($id: ID!) { room(id: $id) { ${ROOM_FIELDS} } }`;
export const ROOM_WITH_PRESENCE = `query RoomWithPresence($id: ID!) { room(id: $id) { ${ROOM_FIELDS} presence { ${PRESENCE_FIELDS} } } }`;
export const MESSAGES = `query Messages($roomId: ID!, $before: Int, $after: Int, $limit: Int) {
  messages(roomId: $roomId, before: $before, after: $after, limit: $limit) { ${MESSAGE_FIELDS} }
}`;

export const SEND_MESSAGE = `mutation SendMessage($roomId: ID!, $body: String!, $clientMessageId: ID!) {
  sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) { ${MESSAGE_FIELDS} }
}`;
export const EDIT_MESSAGE = `mutation EditMessage($messageId: ID!, $body: String!) { editMessage(messageId: $messageId, body: $body) { ${MESSAGE_FIELDS} } }`;
export const DELETE_MESSAGE = `mutation DeleteMessage($messageId: ID!) { deleteMessage(messageId: $messageId) { ${MESSAGE_FIELDS} } }`;
export const CREATE_ROOM = `mutation CreateRoom($name: String!, $password: String) { createRoom(name: $name, password: $password) { ${ROOM_FIELDS} } }`;
export const JOIN_ROOM = `mutation JoinRoom($roomId: ID!, $password: String) { joinRoom(roomId: $roomId, password: $password) { ${ROOM_FIELDS} } }`;
export const LEAVE_ROOM = `mutation LeaveRoom($roomId: ID!) { leaveRoom(roomId: $roomId) { ${ROOM_FIELDS} } }`;
export const SET_TYPING = 'mutation SetTyping($roomId: ID!, $typing: Boolean!) { setTyping(roomId: $roomId, typing: $typing) }';
