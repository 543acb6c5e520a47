import type { RoomEvent } from '../src/domain/events.js';
import type { MessageView } from './views.js';

/** Which message an event changes, or null when it changes none. */
export function historyKey(event: RoomEvent): string | null {
  switch (event.type) {
    case 'MessagePosted':
    case 'MessageEdited':
    case 'MessageDeleted':
      return event.data.messageId;
    default:
      return null;
  }
}

/**
 * The history projection, one message at a time: `project(view, event) → view`. Pure; an event
 * for a message the view does not have (retention dropped the post) leaves it absent.
 */
export function projectMessage(view: MessageView | undefined, event: RoomEvent): MessageView | undefined {
  switch (event.type) {
    case 'MessagePosted': {
      const { messageId, clientMessageId, roomId, author, body } = event.data;
      return { id: messageId, clientMessageId, roomId, seq: event.seq, author, body, createdAt: event.at, editedAt: null, deleted: false };
    }
    case 'MessageEdited':
      return view && !view.deleted ? { ...view, body: event.data.body, editedAt: event.at } : view;
    case 'MessageDeleted':
      return view ? { ...view, body: '', deleted: true } : view;
    default:
      return view;
  }
}

/** Retention: the seq below which a room's messages are gone, if this event says so. */
export function trimmedBefore(event: RoomEvent): number | null {
  return event.type === 'HistoryTrimmed' ? event.data.beforeSeq : null;
}
