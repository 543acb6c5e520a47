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
/**
 * A member took a new display name (the same user id): from this seq on the room knows them by
 * `user.name`. Events before it keep the name they were written with, so history shows who wrote
 * what under which name.
 */
export interface MemberRenamed {
  type: 'MemberRenamed';
  data: { roomId: string; user: UserRef; previousName: string };
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
 * Retention removed the room's message events (posts, edits, deletes) below `beforeSeq`.
 *
 * Where the store removes only those (SQLite), the structural events (created, joined, left, this)
 * stay and the room is folded from them. Where it can only drop a stream's whole prefix
 * (EventStoreDB's $maxCount and $tb), the event carries `room`: everything the room is, so the
 * room is folded from here on and nothing before it is needed. With `room`, `keepLast` is how many
 * of the stream's newest events the store keeps from here on (its `$maxCount`; null: no limit), so
 * every node carries snapshots as often as the stream needs, whatever its own setting.
 */
export interface HistoryTrimmed {
  type: 'HistoryTrimmed';
  data: { roomId: string; beforeSeq: number; room?: RoomSnapshot; keepLast?: number | null };
}

/** The room's structural state at one seq: what RoomCreated, MemberJoined and MemberLeft folded to. */
export interface RoomSnapshot {
  name: string;
  passwordHash: string | null;
  createdBy: UserRef;
  members: UserRef[];
}

/** Users are anonymous: an id and the display name they chose, nothing else. */
export interface UserRef {
  id: string;
  name: string;
}

export type RoomEventBody = RoomCreated | MemberJoined | MemberLeft | MemberRenamed | MessagePosted | MessageEdited | MessageDeleted | HistoryTrimmed;
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
  'MemberRenamed',
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
