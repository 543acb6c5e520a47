import type { Message, RoomEvent, User } from '../../src/index.js';

/**
 * What a room's page shows: history (newest page first, older pages on scroll-back), live events
 * applied on top, and the sends still on their way. Pure: tested without a browser.
 */
export interface PendingSend {
  clientMessageId: string;
  body: string;
  author: User;
  /** Set once the send failed for good (e.g. RATE_LIMITED); the user may retry or discard it. */
  error: string | null;
}

export interface Timeline {
  /** Ascending seq, one entry per message id. */
  messages: Message[];
  pending: PendingSend[];
  /** Whether older messages than the first one may exist (scroll-back). */
  hasOlder: boolean;
  loaded: boolean;
  /** Retention removed the messages below this seq while the room was open (0: it did not). */
  trimmedBefore: number;
}

export type TimelineAction =
  | { type: 'history'; messages: Message[]; older: boolean; pageSize: number }
  | { type: 'event'; event: RoomEvent }
  | { type: 'sending'; pending: PendingSend }
  | { type: 'sent'; clientMessageId: string; message: Message }
  | { type: 'sendFailed'; clientMessageId: string; error: string }
  | { type: 'discard'; clientMessageId: string }
  | { type: 'changed'; message: Message };

export const emptyTimeline: Timeline = { messages: [], pending: [], hasOlder: false, loaded: false, trimmedBefore: 0 };

export function timelineReducer(state: Timeline, action: TimelineAction): Timeline {
  switch (action.type) {
    case 'history': {
      // History can overlap what live events already brought: the live copy wins (it is newer).
      // A page read before a cut that has since arrived must not bring the removed messages back.
      const merged = mergeMessages(action.messages.filter((m) => m.seq >= state.trimmedBefore), state.messages);
      const hasOlder = action.older || !state.loaded ? action.messages.length >= action.pageSize : state.hasOlder;
      return { ...state, messages: merged, hasOlder, loaded: true };
    }
    case 'event':
      return applyEvent(state, action.event);
    case 'sending':
      return { ...state, pending: [...state.pending.filter((p) => p.clientMessageId !== action.pending.clientMessageId), action.pending] };
    case 'sent':
      return withoutPending({ ...state, messages: mergeMessages(state.messages, [action.message], false) }, action.message);
    case 'sendFailed':
      return { ...state, pending: state.pending.map((p) => (p.clientMessageId === action.clientMessageId ? { ...p, error: action.error } : p)) };
    case 'discard':
      return { ...state, pending: state.pending.filter((p) => p.clientMessageId !== action.clientMessageId) };
    case 'changed':
      return { ...state, messages: state.messages.map((m) => (m.id === action.message.id ? action.message : m)) };
  }
}

function applyEvent(state: Timeline, event: RoomEvent): Timeline {
  switch (event.__typename) {
    case 'MessagePosted':
      return withoutPending({ ...state, messages: mergeMessages(state.messages, [event.message], false) }, event.message);
    case 'MessageEdited':
      return { ...state, messages: state.messages.map((m) => (m.id === event.messageId ? { ...m, body: event.body, editedAt: event.at } : m)) };
    case 'MessageDeleted':
      return { ...state, messages: state.messages.map((m) => (m.id === event.messageId ? { ...m, body: '', deleted: true } : m)) };
    case 'HistoryTrimmed': {
      // The page shows what the room keeps, as a reload would: the removed messages go, and with
      // none left there is nothing older to load.
      const messages = state.messages.filter((m) => m.seq >= event.beforeSeq);
      const trimmedBefore = Math.max(state.trimmedBefore, event.beforeSeq);
      return { ...state, messages, trimmedBefore, hasOlder: state.hasOlder && messages.length > 0 };
    }
    case 'RoomCreated':
    case 'MemberJoined':
    case 'MemberLeft':
    case 'MemberRenamed':
      return state;
  }
}

/** The pending send that became `message` is done. */
function withoutPending(state: Timeline, message: Message): Timeline {
  const pending = state.pending.filter((p) => !(p.clientMessageId === message.clientMessageId && p.author.id === message.author.id));
  return pending.length === state.pending.length ? state : { ...state, pending };
}

/**
 * Union by id, ascending seq. On a clash the entry from `preferred` is kept unless `replace` is
 * false, in which case an entry already in `base` stays (a MessagePosted replay must not undo a
 * later edit that history already applied).
 */
function mergeMessages(base: Message[], preferred: Message[], replace = true): Message[] {
  const byId = new Map(base.map((m) => [m.id, m]));
  for (const message of preferred) if (replace || !byId.has(message.id)) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}
