import type { UserRef } from '../domain/events.js';
import type { PresenceView } from './presenceView.js';

/**
 * Who is online and typing in each room.
 *
 * Guarantees: a user is online in a room while at least one of their connections follows it;
 * a user who calls setTyping shows as typing whether or not they follow the room, until they clear
 * it, it lapses by itself after the store's typing TTL, or their last connection to the room goes.
 * `onChange` fires (on this node) after any change a client could see, including lapses; callers
 * publish the new snapshot to the cluster.
 */
export interface PresenceStore {
  connect(roomId: string, user: UserRef, connectionId: string): Promise<void>;
  disconnect(roomId: string, userId: string, connectionId: string): Promise<void>;
  setTyping(roomId: string, user: UserRef, typing: boolean): Promise<void>;
  snapshot(roomId: string): Promise<PresenceView>;
  onChange(listener: (roomId: string) => void): void;
  close(): Promise<void>;
}
