/** The shapes the client hands out, as the server's schema defines them (schema/schema.graphql). */

export interface User {
  id: string;
  name: string;
}

export interface Session {
  token: string;
  user: User;
  expiresAt: string;
}

export interface Presence {
  roomId: string;
  count: number;
  online: User[];
  typing: User[];
}

export interface Room {
  id: string;
  name: string;
  private: boolean;
  headSeq: number;
  oldestSeq: number;
  memberCount: number;
  createdAt: string;
}

export interface Message {
  id: string;
  clientMessageId: string;
  roomId: string;
  seq: number;
  author: User;
  body: string;
  createdAt: string;
  editedAt: string | null;
  deleted: boolean;
}

export interface Notice {
  kind: string;
  message: string;
  until: string | null;
}

interface EventBase {
  seq: number;
  roomId: string;
  at: string;
}

export interface RoomCreated extends EventBase {
  __typename: 'RoomCreated';
  name: string;
  private: boolean;
  createdBy: User;
}
export interface MemberJoined extends EventBase {
  __typename: 'MemberJoined';
  user: User;
}
export interface MemberLeft extends EventBase {
  __typename: 'MemberLeft';
  user: User;
}
export interface MessagePosted extends EventBase {
  __typename: 'MessagePosted';
  message: Message;
}
export interface MessageEdited extends EventBase {
  __typename: 'MessageEdited';
  messageId: string;
  body: string;
}
export interface MessageDeleted extends EventBase {
  __typename: 'MessageDeleted';
  messageId: string;
}

/** One event of a room's log, at its per-room `seq` (1, 2, 3, … with no gaps). */
export type RoomEvent = RoomCreated | MemberJoined | MemberLeft | MessagePosted | MessageEdited | MessageDeleted;
