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
 * The read models (history and rooms), built by the projections in projections/ and queried by the
 * GraphQL layer. Disposable: replaying the log rebuilds them.
 *
 * Guarantees: `apply` applies a batch of events (in log position order) and records the last
 * position as the checkpoint atomically with the views it changed, so after a crash the store
 * neither skips an event nor applies one twice. Events at or below the checkpoint are ignored.
 */
export interface ReadModelStore {
  apply(events: RoomEvent[]): Promise<void>;
  /** Position of the last applied event, 0 before any. */
  checkpoint(): Promise<number>;
  room(roomId: string): Promise<RoomView | null>;
  /** Every room's id, private ones included, in no particular order (for maintenance jobs). */
  roomIds(): Promise<string[]>;
  /** Public rooms, newest activity first. */
  publicRooms(limit: number): Promise<RoomView[]>;
  message(messageId: string): Promise<MessageView | null>;
  /** Ascending by seq. */
  messages(roomId: string, range: MessageRange): Promise<MessageView[]>;
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
