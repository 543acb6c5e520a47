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
  /** Each event once, in seq order; a HistoryTrimmed event tells that retention cut older seqs. */
  onEvent: (event: RoomEvent) => void;
  onError: (error: ChatClientError) => void;
  /**
   * Events were missing, could not be read back, and the room's retention cut does not explain
   * it: the feed went on from `to`. A jump over seqs that retention removed is not a gap (the
   * room's HistoryTrimmed event, delivered in order, says why the seqs jump).
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
 * at or below that seq is a duplicate and dropped. A seq that skips ahead is checked: if the
 * room's retention cut (its `oldestSeq`) is past the skipped seqs, they are gone for good and the
 * jump is expected; otherwise it subscribes again from the last seq it has (the skipped events are
 * read back), so it never skips either.
 */
export function followRoom(connection: Connection, roomId: string, options: RoomFeedOptions, handlers: RoomFeedHandlers): RoomFeed {
  const seq = new SeqTracker(options.afterSeq);
  let stopped = false;
  let subscription: Live | null = null;
  // Set while a gap is being checked; if the first event after that still skips, the log no
  // longer has the missing ones, and we go on rather than loop.
  let checkingGap = false;

  const fail = (error: ChatClientError) => {
    if (stopped) return;
    stopped = true;
    handlers.onError(error);
  };

  /** The room's head, and its retention cut for the tracker; null (the feed failed) if the room is gone. */
  const loadRoom = async (): Promise<Room | null> => {
    const { room } = await request(connection, 'query', ROOM, { id: roomId }, { retry: true });
    if (!room) fail(new ChatClientError('NOT_FOUND', 'room not found'));
    else seq.trimmed(room.oldestSeq);
    return room;
  };

  const begin = () => {
    if (stopped) return;
    subscription = live(connection, {
      query: ROOM_EVENTS,
      variables: () => ({ roomId, afterSeq: seq.lastSeq }),
      onError: fail,
      onData: ({ roomEvents: event }) => {
        if (stopped) return;
        const verdict = seq.check(event.seq);
        if (verdict === 'duplicate') return;
        if (verdict === 'gap') {
          if (!checkingGap) return checkGap();
          handlers.onGap?.({ from: (seq.lastSeq ?? 0) + 1, to: event.seq });
        }
        checkingGap = false;
        if (event.__typename === 'HistoryTrimmed') seq.trimmed(event.beforeSeq);
        seq.advance(event.seq);
        handlers.onEvent(event);
      },
    });
  };

  /** Drops the subscription, learns the room's current retention cut, and subscribes again from the last seq. */
  const checkGap = () => {
    checkingGap = true;
    subscription?.stop();
    subscription = null;
    loadRoom().then((room) => room && begin(), fail);
  };

  if (seq.lastSeq !== undefined) begin();
  else {
    // "From now" still needs a position to resume from if the first disconnect comes before the
    // first event: the room's head.
    loadRoom().then((room) => {
      if (!room) return;
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
