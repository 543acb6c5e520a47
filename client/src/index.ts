/**
 * roomlog's client library: a resumable chat client on @urql/core and graphql-ws, for Node and
 * browsers. See the README, "Client library".
 */
export { createChatClient, type ChatClient, type ChatClientOptions, type RoomEventStream, type SendOptions } from './chatClient.js';
export { createSession } from './session.js';
export { newClientMessageId } from './ids.js';
export { ChatClientError, type ChatErrorCode } from './errors.js';
export type { ConnectionStatus } from './connection.js';
export type { RoomFeed, RoomFeedOptions } from './roomFeed.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { roundRobin, toHttpUrl, toWebSocketUrl, type UrlChoice, type UrlChooser } from './urls.js';
export type {
  HistoryTrimmed,
  Message,
  MessageDeleted,
  MessageEdited,
  MessagePosted,
  MemberJoined,
  MemberLeft,
  MemberRenamed,
  Notice,
  Presence,
  Room,
  RoomCreated,
  RoomEvent,
  Session,
  User,
} from './types.js';
