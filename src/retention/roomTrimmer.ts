/**
 * The room commands retention runs, and all it knows of the chat: it records each decision in
 * the room's own log through these before the store drops anything (src/chat/useCases.ts
 * provides them).
 */
export interface TrimOptions {
  /** Also keep only the room's newest this-many messages (retention by count). */
  keepMessages?: number;
  carrySnapshot?: boolean;
  /** With `carrySnapshot`: record that the store keeps this many newest events (null: all). */
  keepLast?: number | null;
}

export interface RoomTrimmer {
  /**
   * Appends the room's HistoryTrimmed for messages below `beforeSeq` (and, with `keepMessages`,
   * all but the newest that-many), unless no message would go; resolves with where its
   * messages now start. `carrySnapshot`: the store will drop everything before `beforeSeq`, not
   * only messages, so the event carries the room (and is appended even when no more messages go).
   */
  trimHistory(roomId: string, beforeSeq: number, options?: TrimOptions): Promise<number>;
  /**
   * Before a store starts keeping only a room's newest `keepLast` events (null: all of them
   * again): makes sure a snapshot of the room is among them, and that the room records the window
   * (which every node's snapshot cadence follows).
   */
  carryRoomForward(roomId: string, keepLast: number | null): Promise<void>;
}
