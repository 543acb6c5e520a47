import type { ResultOf } from './graphql.js';
import type { CREATE_SESSION, MessageFields, NOTICES, PresenceFields, ROOM_EVENTS, RoomFields, UserFields } from './operations.js';

/**
 * The shapes the client hands out: exactly what its documents (./operations.ts) select, as the
 * schema (schema/schema.graphql) types it. Nothing here is written by hand.
 */

export type User = ResultOf<typeof UserFields>;
export type Session = ResultOf<typeof CREATE_SESSION>['createSession'];
export type Presence = ResultOf<typeof PresenceFields>;
export type Room = ResultOf<typeof RoomFields>;
export type Message = ResultOf<typeof MessageFields>;
export type Notice = ResultOf<typeof NOTICES>['notices'];

/** One event of a room's log, at its per-room `seq` (1, 2, 3, …; retention may cut older ones: see HistoryTrimmed). */
export type RoomEvent = ResultOf<typeof ROOM_EVENTS>['roomEvents'];

type EventOf<Name extends RoomEvent['__typename']> = Extract<RoomEvent, { __typename: Name }>;
export type RoomCreated = EventOf<'RoomCreated'>;
export type MemberJoined = EventOf<'MemberJoined'>;
export type MemberLeft = EventOf<'MemberLeft'>;
/** A member took a new display name (the same user id); earlier events keep the old name. */
export type MemberRenamed = EventOf<'MemberRenamed'>;
export type MessagePosted = EventOf<'MessagePosted'>;
export type MessageEdited = EventOf<'MessageEdited'>;
export type MessageDeleted = EventOf<'MessageDeleted'>;
/**
 * Retention removed the room's messages (and, on prefix-cutting stores, every event) below
 * `beforeSeq`: a follower resuming from an older seq jumps to the oldest kept one.
 */
export type HistoryTrimmed = EventOf<'HistoryTrimmed'>;
