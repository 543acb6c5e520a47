/**
 * Room events: everything that happens in a room, past tense, one stream per room (`room-<id>`).
 * The stream revision of an event is its room `seq`; the event payloads below never carry it.
 */
export interface RoomCreated {
  type: 'RoomCreated';
  data: { roomId: string; name: string; createdBy: UserRef; passwordHash: string | null };
}
export interface MemberJoined {
  type: 'MemberJoined';
  data: { roomId: string; user: UserRef };
}
export interface MemberLeft {
  type: 'MemberLeft';
  data: { roomId: string; user: UserRef };
}
export interface MessagePosted {
  type: 'MessagePosted';
  data: { roomId: string; messageId: string; clientMessageId: string; author: UserRef; body: string };
}
export interface MessageEdited {
  type: 'MessageEdited';
  data: { roomId: string; messageId: string; body: string };
}
export interface MessageDeleted {
  type: 'MessageDeleted';
  data: { roomId: string; messageId: string };
}

/**
 * Retention removed the room's message events (posts, edits, deletes) below `beforeSeq` from the
 * log. Structural events (created, joined, left, and this) are never removed: the room is folded
 * from them.
 */
export interface HistoryTrimmed {
  type: 'HistoryTrimmed';
  data: { roomId: string; beforeSeq: number };
}

/** Users are anonymous: an id and the display name they chose, nothing else. */
export interface UserRef {
  id: string;
  name: string;
}

export type RoomEventBody = RoomCreated | MemberJoined | MemberLeft | MessagePosted | MessageEdited | MessageDeleted | HistoryTrimmed;
export type RoomEventType = RoomEventBody['type'];

/** A room event as read back from the log: its body plus where and when it was stored. */
export type RoomEvent = RoomEventBody & {
  /** The event id (also the dedupe key). */
  id: string;
  seq: number;
  /** Global log position. */
  position: number;
  /** Milliseconds since the epoch. */
  at: number;
};

export const ROOM_EVENT_TYPES: ReadonlySet<string> = new Set<RoomEventType>([
  'RoomCreated',
  'MemberJoined',
  'MemberLeft',
  'MessagePosted',
  'MessageEdited',
  'MessageDeleted',
  'HistoryTrimmed',
]);

/** The event types retention may remove; everything else in a room stream is kept for good. */
export const TRIMMABLE_EVENT_TYPES: readonly RoomEventType[] = ['MessagePosted', 'MessageEdited', 'MessageDeleted'];

export const roomStream = (roomId: string): string => `room-${roomId}`;
export const roomIdOfStream = (stream: string): string | null =>
  stream.startsWith('room-') ? stream.slice('room-'.length) : null;
