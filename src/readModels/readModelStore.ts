import type { RoomEvent } from '../domain/events.js';
import type { MessageView, RoomView } from '../../projections/views.js';

export interface MessageRange {
  /** Only messages with a smaller seq; the newest `limit` of them. */
  before?: number;
  /** Only messages with a greater seq; the oldest `limit` of them (wins over `before` for paging). */
  after?: number;
  limit: number;
}

/**
 * A read that must reflect the log up to `atLeast` (read-your-writes: the position of the newest
 * event the reader must see). The store compares it with its checkpoint read atomically with the
 * answer, and throws ReadModelsBehindError instead of answering from views that miss it.
 */
export interface ReadAt {
  atLeast: number;
}

export interface ApplyOptions {
  /**
   * Where the caller believes the checkpoint is (the position it read this batch after). When the
   * stored checkpoint is anything else, nothing is applied and CheckpointMismatchError says what it
   * is: the store lost its data (a Redis restart without persistence, FLUSHALL), was replaced, or
   * was written by someone else. The projector then resumes from what the store really holds.
   */
  after?: number;
  /**
   * The log position this batch reaches (its last stored event, which need not be a room event):
   * the checkpoint moves there, even for an empty batch, so it can always reach the log's head.
   */
  through?: number;
}

/**
 * The read models (history and rooms), built by the projections in projections/ and queried by the
 * GraphQL layer. Disposable: replaying the log rebuilds them.
 *
 * Guarantees: `apply` applies a batch of events (in log position order) and records the last
 * position as the checkpoint atomically with the views it changed, so after a crash the store
 * neither skips an event nor applies one twice. Events at or below the checkpoint are ignored.
 * A query given `at` answers only from views that include every event up to `at.atLeast`.
 */
export interface ReadModelStore {
  apply(events: RoomEvent[], options?: ApplyOptions): Promise<void>;
  /** Position of the last applied event (or `through`), 0 before any, and 0 again once the data is lost. */
  checkpoint(): Promise<number>;
  room(roomId: string, at?: ReadAt): Promise<RoomView | null>;
  /** Every room's id, private ones included, in no particular order (for maintenance jobs). */
  roomIds(): Promise<string[]>;
  /** Public rooms, newest activity first. */
  publicRooms(limit: number, at?: ReadAt): Promise<RoomView[]>;
  /** The rooms `userId` is a member of (private ones included), newest activity first. */
  memberRooms(userId: string, limit: number, at?: ReadAt): Promise<RoomView[]>;
  message(messageId: string, at?: ReadAt): Promise<MessageView | null>;
  /** Ascending by seq. */
  messages(roomId: string, range: MessageRange, at?: ReadAt): Promise<MessageView[]>;
  /** Drops every view and the checkpoint (before a rebuild from the start of the log). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `apply` refused the batch because the store is fenced by the projector lease (README, "Running
 * several nodes") and the lease is no longer ours: another node leads now. Part of the port, not
 * of one adapter, so the runner that catches it knows only the port; a runner that gets it simply
 * stops leading, it is not a failure to report.
 */
export class FencedOutError extends Error {
  constructor() {
    super('the projector lease moved to another node; this batch was not applied');
    this.name = 'FencedOutError';
  }
}

/** `apply` refused the batch: the stored checkpoint is not the `after` it was given (see ApplyOptions). */
export class CheckpointMismatchError extends Error {
  constructor(
    readonly expected: number,
    readonly stored: number,
  ) {
    super(`the read models' checkpoint is ${stored}, not ${expected}: they were emptied, replaced or written elsewhere; this batch was not applied`);
    this.name = 'CheckpointMismatchError';
  }
}

/** A query given `at` found the views behind it: they include the log only up to `checkpoint`. */
export class ReadModelsBehindError extends Error {
  constructor(
    readonly wanted: number,
    readonly checkpoint: number,
  ) {
    super(`the read models are at position ${checkpoint}, behind the ${wanted} this read must reflect`);
    this.name = 'ReadModelsBehindError';
  }
}

/**
 * A read could not be answered because the store behind the read models does not answer (Redis
 * down or restarting). The views are disposable and the log is the truth, so this is "try again
 * shortly", never "the data is gone": the use cases answer it as UNAVAILABLE.
 */
export class ReadModelsUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the read models do not answer', { cause });
    this.name = 'ReadModelsUnavailableError';
  }
}

/** For adapters: throws ReadModelsBehindError when `checkpoint` does not reach `at`. */
export function assertReaches(checkpoint: number, at: ReadAt | undefined): void {
  if (at && checkpoint < at.atLeast) throw new ReadModelsBehindError(at.atLeast, checkpoint);
}
