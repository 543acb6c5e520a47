import type { Decider } from './decider.js';
import { badInput, forbidden, notFound } from './errors.js';
import type { RoomEventBody, RoomSnapshot, UserRef } from './events.js';
import { messageIdFor, newEventId, postEventId } from './ids.js';

/**
 * The room aggregate: what a command needs to know to be decided, folded from the room's stream.
 * Pure: no I/O, no clock. The command handler (src/commandHandling) loads it, calls `decide`,
 * appends the result with the stream's revision as the expected revision, and retries on a
 * conflict; test/unit/roomDecider.unit.test.ts states every rule as given/when/then.
 */
export interface RoomState {
  /** Revision (seq) of the last event folded in; 0 for a room that does not exist. */
  revision: number;
  room: { id: string; name: string; passwordHash: string | null; createdBy: UserRef } | null;
  members: Map<string, UserRef>;
  /** Per message: who wrote it, at which seq, and whether it is gone. */
  messages: Map<string, { authorId: string; seq: number; deleted: boolean }>;
  /** Messages below this seq were removed by retention (1 = nothing removed). */
  trimmedBefore: number;
  /**
   * Seq of the newest event the whole room can be folded from: RoomCreated, or a HistoryTrimmed
   * carrying a snapshot. Retention that drops a stream's prefix must never drop past it.
   */
  foldableFrom: number;
  /**
   * How many of the stream's newest events the store keeps (EventStoreDB's `$maxCount`), as the
   * room's snapshots record it; null when none is recorded. What the snapshot cadence follows.
   */
  keepLast: number | null;
}

export const initialRoomState = (): RoomState => ({
  revision: 0,
  room: null,
  members: new Map(),
  messages: new Map(),
  trimmedBefore: 1,
  foldableFrom: 0,
  keepLast: null,
});

/** The room's structural state, to carry in a HistoryTrimmed when older events may be dropped. */
export function snapshotOf(state: RoomState): RoomSnapshot | null {
  if (!state.room) return null;
  const { name, passwordHash, createdBy } = state.room;
  return { name, passwordHash, createdBy, members: [...state.members.values()] };
}

/** Mutates and returns `state`: the aggregate is private to its cache, so copying would only cost. */
export function evolve(state: RoomState, event: RoomEventBody, seq: number): RoomState {
  state.revision = seq;
  switch (event.type) {
    case 'RoomCreated': {
      const { roomId, name, passwordHash, createdBy } = event.data;
      state.room = { id: roomId, name, passwordHash, createdBy };
      state.foldableFrom = seq;
      break;
    }
    case 'MemberJoined':
      state.members.set(event.data.user.id, event.data.user);
      break;
    case 'MemberLeft':
      state.members.delete(event.data.user.id);
      break;
    case 'MemberRenamed':
      if (state.members.has(event.data.user.id)) state.members.set(event.data.user.id, event.data.user);
      break;
    case 'MessagePosted':
      state.messages.set(event.data.messageId, { authorId: event.data.author.id, seq, deleted: false });
      break;
    case 'MessageEdited':
      break;
    case 'MessageDeleted': {
      const message = state.messages.get(event.data.messageId);
      if (message) message.deleted = true;
      break;
    }
    case 'HistoryTrimmed': {
      state.trimmedBefore = Math.max(state.trimmedBefore, event.data.beforeSeq);
      for (const [id, message] of state.messages) if (message.seq < state.trimmedBefore) state.messages.delete(id);
      const snapshot = event.data.room;
      if (snapshot) {
        // Everything structural up to here, whatever was (or was not) folded before it.
        const { name, passwordHash, createdBy } = snapshot;
        state.room = { id: event.data.roomId, name, passwordHash, createdBy };
        state.members = new Map(snapshot.members.map((user) => [user.id, user]));
        state.foldableFrom = seq;
        if (event.data.keepLast !== undefined) state.keepLast = event.data.keepLast;
      }
      break;
    }
  }
  return state;
}

export type RoomCommand =
  | { type: 'CreateRoom'; roomId: string; name: string; passwordHash: string | null; by: UserRef }
  | { type: 'JoinRoom'; user: UserRef; passwordAccepted: boolean }
  | { type: 'LeaveRoom'; user: UserRef }
  /** `user` under its new name: a member's name changes; anyone else, or the same name, is nothing. */
  | { type: 'RenameMember'; user: UserRef }
  | { type: 'PostMessage'; author: UserRef; clientMessageId: string; body: string }
  | { type: 'EditMessage'; by: UserRef; messageId: string; body: string }
  | { type: 'DeleteMessage'; by: UserRef; messageId: string }
  /**
   * `carrySnapshot`: the store will drop everything before `beforeSeq`, not only messages, so the
   * event must carry the room (and is appended even when no more messages go).
   */
  | {
      type: 'TrimHistory';
      /** Messages below this seq go (an age cut, say). */
      beforeSeq: number;
      /** Also: keep only the room's newest this-many messages (counted as messages, not seqs). */
      keepMessages?: number;
      carrySnapshot?: boolean;
      /** With `carrySnapshot`: the store keeps this many newest events from now on (null: all). */
      keepLast?: number | null;
    };

/** Events to append, each with its id. An empty list means "nothing to do" (e.g. a resend). */
export type Decision = Array<RoomEventBody & { id: string }>;

export function decide(state: RoomState, command: RoomCommand): Decision {
  if (command.type === 'CreateRoom') {
    if (state.room) throw badInput('room already exists');
    const { roomId, name, passwordHash, by } = command;
    return [
      { id: newEventId(), type: 'RoomCreated', data: { roomId, name, passwordHash, createdBy: by } },
      { id: newEventId(), type: 'MemberJoined', data: { roomId, user: by } },
    ];
  }
  const room = state.room;
  if (!room) throw notFound('room');
  const roomId = room.id;

  switch (command.type) {
    case 'JoinRoom': {
      if (state.members.has(command.user.id)) return [];
      if (room.passwordHash && !command.passwordAccepted) throw forbidden('wrong password for this private room');
      return [{ id: newEventId(), type: 'MemberJoined', data: { roomId, user: command.user } }];
    }
    case 'LeaveRoom': {
      if (!state.members.has(command.user.id)) return [];
      return [{ id: newEventId(), type: 'MemberLeft', data: { roomId, user: command.user } }];
    }
    case 'RenameMember': {
      const member = state.members.get(command.user.id);
      if (!member || member.name === command.user.name) return [];
      return [{ id: newEventId(), type: 'MemberRenamed', data: { roomId, user: command.user, previousName: member.name } }];
    }
    case 'PostMessage': {
      const { author, clientMessageId, body } = command;
      const id = postEventId(roomId, author.id, clientMessageId);
      const messageId = messageIdFor(roomId, id);
      // A resend of a message already in the log: idempotent, nothing to append. Checked before
      // membership so that a retry after leaving still answers with the original.
      if (state.messages.has(messageId)) return [];
      if (!state.members.has(author.id)) throw forbidden('join the room before sending to it');
      return [{ id, type: 'MessagePosted', data: { roomId, messageId, clientMessageId, author, body } }];
    }
    case 'TrimHistory': {
      const wanted = Math.max(command.beforeSeq, command.keepMessages === undefined ? 1 : cutKeepingNewest(state, command.keepMessages));
      const beforeSeq = Math.max(state.trimmedBefore, Math.min(wanted, state.revision + 1));
      if (command.carrySnapshot) {
        const room = snapshotOf(state)!;
        // Every snapshot repeats the window, so the newest one left always says what it is.
        const keepLast = command.keepLast !== undefined ? command.keepLast : state.keepLast;
        const window = keepLast !== null || command.keepLast === null ? { keepLast } : {};
        return [{ id: newEventId(), type: 'HistoryTrimmed', data: { roomId, beforeSeq, room, ...window } }];
      }
      if (beforeSeq <= state.trimmedBefore) return [];
      // A cut that would remove no message records nothing: otherwise every run over a quiet room
      // appends a trim event, whose own seq then moves the next run's cut.
      if (![...state.messages.values()].some((message) => message.seq < beforeSeq)) return [];
      return [{ id: newEventId(), type: 'HistoryTrimmed', data: { roomId, beforeSeq } }];
    }
    case 'EditMessage':
    case 'DeleteMessage': {
      const message = state.messages.get(command.messageId);
      if (!message) throw notFound('message');
      if (message.authorId !== command.by.id) throw forbidden('only the author may change a message');
      if (message.deleted) {
        if (command.type === 'DeleteMessage') return [];
        throw badInput('the message was deleted');
      }
      const { messageId } = command;
      return command.type === 'EditMessage'
        ? [{ id: newEventId(), type: 'MessageEdited', data: { roomId, messageId, body: command.body } }]
        : [{ id: newEventId(), type: 'MessageDeleted', data: { roomId, messageId } }];
    }
  }
}

/** The room as one decider value: what the generic command handler and the specifications take. */
export const roomDecider: Decider<RoomState, RoomCommand, RoomEventBody> = {
  initialState: initialRoomState,
  evolve,
  decide,
};

/** The seq below which all but the room's newest `keep` messages lie (1 when it has no more than that). */
function cutKeepingNewest(state: RoomState, keep: number): number {
  if (state.messages.size <= keep) return 1;
  const seqs = [...state.messages.values()].map((message) => message.seq).sort((a, b) => b - a);
  return seqs[keep - 1]!;
}
