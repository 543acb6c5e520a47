import type { UserRef } from '../src/domain/events.js';

/** A message as the history projection keeps it: edits and deletes applied. */
export interface MessageView {
  id: string;
  clientMessageId: string;
  roomId: string;
  /** Seq of the MessagePosted event. */
  seq: number;
  author: UserRef;
  /** "" once deleted. */
  body: string;
  createdAt: number;
  editedAt: number | null;
  deleted: boolean;
}

export interface RoomView {
  id: string;
  name: string;
  private: boolean;
  createdBy: UserRef;
  createdAt: number;
  /** When the newest event happened (ms since the epoch): the room list's order. */
  lastActivityAt: number;
  /** Seq of the newest event in the room, 0 when empty. */
  headSeq: number;
  /** Oldest retained seq (1 until retention drops older events). */
  oldestSeq: number;
  memberCount: number;
}
