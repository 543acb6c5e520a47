import { ChatClientError } from './errors.js';
import { live, type Live } from './live.js';
import { ROOM, ROOM_EVENTS } from './operations.js';
import { request } from './request.js';
import { SeqTracker } from './seqTracker.js';
import type { Connection } from './connection.js';
import type { Room, RoomEvent } from './types.js';

export interface RoomFeedOptions {
  /** Deliver every event with a greater seq (0: the whole retained log). Default: from the room's current head. */
  afterSeq?: number;
}

export interface RoomFeedHandlers {
  onEvent: (event: RoomEvent) => void;
  onError: (error: ChatClientError) => void;
  /**
   * Events were missing and could not be read back (the server no longer retains them): the
   * feed went on from `to`. Never happens while the log keeps everything.
   */
  onGap?: (gap: { from: number; to: number }) => void;
}

export interface RoomFeed {
  /** Stops following; nothing is delivered after it returns. */
  unsubscribe(): void;
  /** The seq of the last event delivered (or the starting point). */
  readonly lastSeq: number | undefined;
}

/**
 * Follows one room's log across reconnects: every (re)subscription asks for `afterSeq` = the last
 * seq delivered, so after any disconnect, on any node, it gets exactly what it missed; anything
 * at or below that seq is a duplicate and dropped; a seq that skips ahead makes it subscribe again
 * from the last one it has (the skipped events are read back), so it never skips either.
 */
export function followRoom(connection: Connection, roomId: string, options: RoomFeedOptions, handlers: RoomFeedHandlers): RoomFeed {
  const seq = new SeqTracker(options.afterSeq);
  let stopped = false;
  let subscription: Live | null = null;
  // Set when a gap made us resubscribe; if the first event after that still skips, the log no
  // longer has the missing ones (retention), and we go on rather than loop.
  let resubscribedForGap = false;

  const fail = (error: ChatClientError) => {
    if (stopped) return;
    stopped = true;
    handlers.onError(error);
  };

  const begin = () => {
    if (stopped) return;
    subscription = live<{ roomEvents: RoomEvent }>(connection, {
      query: ROOM_EVENTS,
      variables: () => ({ roomId, afterSeq: seq.lastSeq }),
      onError: fail,
      onData: ({ roomEvents: event }) => {
        if (stopped) return;
        const verdict = seq.check(event.seq);
        if (verdict === 'duplicate') return;
        if (verdict === 'gap') {
          if (!resubscribedForGap) {
            resubscribedForGap = true;
            return 'restart';
          }
          handlers.onGap?.({ from: (seq.lastSeq ?? 0) + 1, to: event.seq });
        }
        resubscribedForGap = false;
        seq.advance(event.seq);
        handlers.onEvent(event);
      },
    });
  };

  if (seq.lastSeq !== undefined) begin();
  else {
    // "From now" still needs a position to resume from if the first disconnect comes before the
    // first event: the room's head.
    request<{ room: Room | null }>(connection, 'query', ROOM, { id: roomId }, { retry: true }).then(({ room }) => {
      if (!room) return fail(new ChatClientError('NOT_FOUND', 'room not found'));
      seq.startAt(room.headSeq);
      begin();
    }, fail);
  }

  return {
    unsubscribe() {
      stopped = true;
      subscription?.stop();
    },
    get lastSeq() {
      return seq.lastSeq;
    },
  };
}
