import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import { pushIterator } from './asyncQueue.js';
import type { BackoffOptions } from './backoff.js';
import { Connection, type ConnectionStatus } from './connection.js';
import type { ChatClientError } from './errors.js';
import { createFeeds, followLive, followRoomEvents } from './feeds.js';
import * as ops from './operations.js';
import { request } from './request.js';
import type { RoomFeed, RoomFeedOptions } from './roomFeed.js';
import { sendMessage, type SendRetryOptions } from './send.js';
import type { Message, Notice, Presence, Room, RoomEvent, Session, User } from './types.js';
import { roundRobin, type UrlChooser } from './urls.js';

export interface ChatClientOptions {
  /** A node: `http://127.0.0.1:4000` (or its /graphql or ws:// URL). Several: fail over between them. */
  url?: string | readonly string[];
  /** Picks the URL for each connection attempt instead of `url` (e.g. ask a balancer or a registry). */
  chooseUrl?: UrlChooser;
  /** A session token from `createSession`. */
  token: string;
  /** The WebSocket class: needed on Node 20 (`import WebSocket from 'ws'`); browsers have one. */
  webSocketImpl?: unknown;
  /** Reconnect backoff (default 250 ms doubling up to 10 s, with jitter). */
  backoff?: BackoffOptions;
  /** Ping interval (default 10 s) and how long to wait for the pong before giving the socket up (default 5 s). */
  keepAliveMs?: number;
  pongTimeoutMs?: number;
}

/** An async iterable of a room's events that also tells where it is in the room's log. */
export interface RoomEventStream extends AsyncIterableIterator<RoomEvent> {
  readonly lastSeq: number | undefined;
}

export interface SendOptions extends SendRetryOptions {
  /** Reuse to make a send idempotent across restarts of the sender itself (default: a new random id). */
  clientMessageId?: string;
}

export interface ChatClient {
  /** The urql Client underneath (every operation goes over the client's WebSocket). */
  readonly urql: Connection['urql'];
  readonly status: ConnectionStatus;
  /** The node the client is connected to (or last tried). */
  readonly url: string | undefined;
  /** Why the client closed itself, if it did (e.g. UNAUTHENTICATED: the server refused the token). */
  readonly error: ChatClientError | null;
  onStatus(listener: (status: ConnectionStatus) => void): () => void;

  /** A room's events in seq order, resumed after every disconnect with no gap and no duplicate. */
  roomEvents(roomId: string, options?: RoomFeedOptions): RoomEventStream;
  onRoomEvents(roomId: string, onEvent: (event: RoomEvent) => void, options?: RoomFeedOptions & { onError?: (error: ChatClientError) => void }): RoomFeed;
  /** Who is in a room and who types: the current state at once, then every change. */
  presence(roomId: string): AsyncIterableIterator<Presence>;
  onPresence(roomId: string, listener: (presence: Presence) => void, onError?: (error: ChatClientError) => void): () => void;
  /** What the server tells this user (e.g. RATE_LIMITED with `until`). */
  notices(): AsyncIterableIterator<Notice>;
  onNotice(listener: (notice: Notice) => void, onError?: (error: ChatClientError) => void): () => void;

  /**
   * Sends a message; resolves with it once the server has it durably. Retries across reconnects
   * with the same clientMessageId until acknowledged, so it is stored exactly once. A refusal by
   * the rate limit is retried by itself after the server's `retryAfterMs` (3 times by default:
   * `rateLimitRetries`). Rejects with a ChatClientError: RATE_LIMITED (see `retryAfterMs`),
   * FORBIDDEN, PAYLOAD_TOO_LARGE, CLOSED, …
   */
  send(roomId: string, body: string, options?: SendOptions): Promise<Message>;
  editMessage(messageId: string, body: string): Promise<Message>;
  deleteMessage(messageId: string): Promise<Message>;
  setTyping(roomId: string, typing: boolean): Promise<boolean>;

  me(): Promise<User | null>;
  rooms(): Promise<Room[]>;
  /** The rooms this session's user is a member of, private ones included, most active first. */
  myRooms(): Promise<Room[]>;
  room(roomId: string): Promise<Room | null>;
  /** History (edits and deletes applied), ascending seq: the newest `limit` before `before`, or the oldest after `after`. */
  messages(roomId: string, page?: { before?: number; after?: number; limit?: number }): Promise<Message[]>;
  createRoom(name: string, password?: string): Promise<Room>;
  joinRoom(roomId: string, password?: string): Promise<Room>;
  leaveRoom(roomId: string): Promise<Room>;
  /**
   * Takes a new display name, staying the same user (same id, same rooms, own messages still
   * editable); resolves with a new session carrying the name. The client keeps its current token
   * (and the old name) until it is made again with the new one, as the web chat does at once.
   */
  renameSelf(name: string): Promise<Session>;

  /** Stops every feed, rejects what is pending with CLOSED, and closes the socket. */
  close(): Promise<void>;
}

export function createChatClient(options: ChatClientOptions): ChatClient {
  const connection = openConnection(options);
  const feeds = createFeeds(connection);
  const onRoomEvents: ChatClient['onRoomEvents'] = (roomId, onEvent, opts) => followRoomEvents(feeds, roomId, onEvent, opts);

  const client: ChatClient = {
    urql: connection.urql,
    get status() {
      return connection.status;
    },
    get url() {
      return connection.url;
    },
    get error() {
      return connection.finalError;
    },
    onStatus: (listener) => connection.onStatus(listener),

    roomEvents: (roomId, opts = {}) => roomEventStream(onRoomEvents, roomId, opts),
    onRoomEvents,
    presence: (roomId) => pushIterator((push, fail) => client.onPresence(roomId, push, fail)),
    onPresence: (roomId, listener, onError) => followLive(feeds, ops.PRESENCE, { roomId }, (d) => d.presence, listener, onError),
    notices: () => pushIterator((push, fail) => client.onNotice(push, fail)),
    onNotice: (listener, onError) => followLive(feeds, ops.NOTICES, {}, (d) => d.notices, listener, onError),

    ...requestMethods(connection),

    async close() {
      feeds.stopAll();
      await connection.close();
    },
  };
  return client;
}

function openConnection(options: ChatClientOptions): Connection {
  const chooseUrl = options.chooseUrl ?? roundRobin(typeof options.url === 'string' ? [options.url] : [...(options.url ?? [])]);
  return new Connection({
    chooseUrl,
    token: options.token,
    webSocketImpl: options.webSocketImpl,
    backoff: options.backoff,
    keepAliveMs: options.keepAliveMs,
    pongTimeoutMs: options.pongTimeoutMs,
  });
}

/** `roomEvents` as an async iterator over `onRoomEvents`, telling the feed's lastSeq as it goes. */
function roomEventStream(onRoomEvents: ChatClient['onRoomEvents'], roomId: string, opts: RoomFeedOptions): RoomEventStream {
  let feed: RoomFeed | undefined;
  const iterator = pushIterator<RoomEvent>((push, fail) => {
    feed = onRoomEvents(roomId, push, { afterSeq: opts.afterSeq, onError: fail });
    return () => feed?.unsubscribe();
  });
  return Object.defineProperty(iterator, 'lastSeq', { get: () => feed?.lastSeq }) as RoomEventStream;
}

type RequestMethods = 'send' | 'editMessage' | 'deleteMessage' | 'setTyping' | 'me' | 'rooms' | 'myRooms' | 'room' | 'messages' | 'createRoom' | 'joinRoom' | 'leaveRoom' | 'renameSelf';

/** The client's queries and mutations: one request each over the client's connection. */
function requestMethods(connection: Connection): Pick<ChatClient, RequestMethods> {
  const query = <D, V extends AnyVariables>(document: TypedDocumentNode<D, V>, variables: V) => request(connection, 'query', document, variables, { retry: true });
  // Retried mutations are the ones that are safe to repeat: join, leave, edit, delete, typing.
  const mutate = <D, V extends AnyVariables>(document: TypedDocumentNode<D, V>, variables: V, retry = true) => request(connection, 'mutation', document, variables, { retry });
  return {
    send: (roomId, body, sendOptions) => sendMessage(connection, roomId, body, sendOptions),
    editMessage: async (messageId, body) => (await mutate(ops.EDIT_MESSAGE, { messageId, body })).editMessage,
    deleteMessage: async (messageId) => (await mutate(ops.DELETE_MESSAGE, { messageId })).deleteMessage,
    setTyping: async (roomId, typing) => (await mutate(ops.SET_TYPING, { roomId, typing })).setTyping,

    me: async () => (await query(ops.ME, {})).me,
    rooms: async () => (await query(ops.ROOMS, {})).rooms,
    myRooms: async () => (await query(ops.MY_ROOMS, {})).myRooms,
    room: async (roomId) => (await query(ops.ROOM, { id: roomId })).room,
    messages: async (roomId, page = {}) => (await query(ops.MESSAGES, { roomId, ...page })).messages,
    // Not retried: a lost acknowledgement followed by a retry would make a second room.
    createRoom: async (name, password) => (await mutate(ops.CREATE_ROOM, { name, password }, false)).createRoom,
    joinRoom: async (roomId, password) => (await mutate(ops.JOIN_ROOM, { roomId, password })).joinRoom,
    leaveRoom: async (roomId) => (await mutate(ops.LEAVE_ROOM, { roomId })).leaveRoom,
    // Safe to repeat: renaming to the name one already has appends nothing.
    renameSelf: async (name) => (await mutate(ops.RENAME_SELF, { name })).renameSelf,
  };
}
