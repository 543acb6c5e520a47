import { graphql } from './graphql.js';

/**
 * The GraphQL documents the client sends, typed by the schema (./graphql.ts): a field the schema
 * no longer has, or a changed argument, fails `npm run typecheck`. The shapes the client hands
 * out (./types.ts) are derived from these documents, so they cannot drift from what is selected.
 *
 * Every client sends the same text for the same operation (urql prints each document once, the
 * same way everywhere), so the server can execute a roomEvents selection once for all its
 * subscribers (src/server/sharedExecution.ts groups them by query text).
 */

export const UserFields = graphql(`
  fragment UserFields on User { id name }
`);

export const MessageFields = graphql(
  `
  fragment MessageFields on Message {
    id clientMessageId roomId seq author { ...UserFields } body createdAt editedAt deleted
  }
`,
  [UserFields],
);

export const RoomFields = graphql(`
  fragment RoomFields on Room { id name private headSeq oldestSeq memberCount createdAt }
`);

export const PresenceFields = graphql(
  `
  fragment PresenceFields on Presence { roomId count online { ...UserFields } typing { ...UserFields } }
`,
  [UserFields],
);

/** Every RoomEvent type the schema has is selected here: a new one must be added (or it arrives with no fields). */
export const ROOM_EVENTS = graphql(
  `
  subscription RoomEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) {
      __typename seq roomId at
      ... on MessagePosted { message { ...MessageFields } }
      ... on MessageEdited { messageId body }
      ... on MessageDeleted { messageId }
      ... on MemberJoined { user { ...UserFields } }
      ... on MemberLeft { user { ...UserFields } }
      ... on MemberRenamed { user { ...UserFields } previousName }
      ... on RoomCreated { name private createdBy { ...UserFields } }
      ... on HistoryTrimmed { beforeSeq }
    }
  }
`,
  [MessageFields, UserFields],
);

export const PRESENCE = graphql(
  `
  subscription Presence($roomId: ID!) { presence(roomId: $roomId) { ...PresenceFields } }
`,
  [PresenceFields],
);

export const NOTICES = graphql(`
  subscription Notices { notices { kind message until } }
`);

export const CREATE_SESSION = graphql(
  `
  mutation CreateSession($name: String!) { createSession(name: $name) { token expiresAt user { ...UserFields } } }
`,
  [UserFields],
);

export const RENAME_SELF = graphql(
  `
  mutation RenameSelf($name: String!) { renameSelf(name: $name) { token expiresAt user { ...UserFields } } }
`,
  [UserFields],
);

export const ME = graphql(
  `
  query Me { me { ...UserFields } }
`,
  [UserFields],
);

export const ROOMS = graphql(
  `
  query Rooms { rooms { ...RoomFields } }
`,
  [RoomFields],
);

export const MY_ROOMS = graphql(
  `
  query MyRooms { myRooms { ...RoomFields } }
`,
  [RoomFields],
);

export const ROOM = graphql(
  `
  query Room($id: ID!) { room(id: $id) { ...RoomFields } }
`,
  [RoomFields],
);

export const MESSAGES = graphql(
  `
  query Messages($roomId: ID!, $before: Int, $after: Int, $limit: Int) {
    messages(roomId: $roomId, before: $before, after: $after, limit: $limit) { ...MessageFields }
  }
`,
  [MessageFields],
);

export const SEND_MESSAGE = graphql(
  `
  mutation SendMessage($roomId: ID!, $body: String!, $clientMessageId: ID!) {
    sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) { ...MessageFields }
  }
`,
  [MessageFields],
);

export const EDIT_MESSAGE = graphql(
  `
  mutation EditMessage($messageId: ID!, $body: String!) { editMessage(messageId: $messageId, body: $body) { ...MessageFields } }
`,
  [MessageFields],
);

export const DELETE_MESSAGE = graphql(
  `
  mutation DeleteMessage($messageId: ID!) { deleteMessage(messageId: $messageId) { ...MessageFields } }
`,
  [MessageFields],
);

export const CREATE_ROOM = graphql(
  `
  mutation CreateRoom($name: String!, $password: String) { createRoom(name: $name, password: $password) { ...RoomFields } }
`,
  [RoomFields],
);

export const JOIN_ROOM = graphql(
  `
  mutation JoinRoom($roomId: ID!, $password: String) { joinRoom(roomId: $roomId, password: $password) { ...RoomFields } }
`,
  [RoomFields],
);

export const LEAVE_ROOM = graphql(
  `
  mutation LeaveRoom($roomId: ID!) { leaveRoom(roomId: $roomId) { ...RoomFields } }
`,
  [RoomFields],
);

export const SET_TYPING = graphql(`
  mutation SetTyping($roomId: ID!, $typing: Boolean!) { setTyping(roomId: $roomId, typing: $typing) }
`);
