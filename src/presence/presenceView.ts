import type { UserRef } from '../domain/events.js';

/**
 * Presence of one room, from ephemeral signals (not the durable log: who is looking at a room right
 * now is not history), so it lives beside the presence store port rather than with the log's folds
 * in projections/. Pure functions; the presence stores keep one of these per room.
 */
export interface RoomPresence {
  /** Per online user, the ids of their connections that follow the room. */
  online: Map<string, { user: UserRef; connections: Set<string> }>;
  /** Per typing user, when their typing flag lapses (ms since the epoch). */
  typing: Map<string, { user: UserRef; until: number }>;
}

export type PresenceSignal =
  | { type: 'Connected'; user: UserRef; connectionId: string }
  | { type: 'Disconnected'; userId: string; connectionId: string }
  | { type: 'Typing'; user: UserRef; typing: boolean; until: number }
  | { type: 'Tick'; now: number };

export interface PresenceView {
  roomId: string;
  count: number;
  online: UserRef[];
  typing: UserRef[];
}

export const emptyPresence = (): RoomPresence => ({ online: new Map(), typing: new Map() });

/** Applies a signal in place; returns whether anything a client can see changed. */
export function applyPresence(state: RoomPresence, signal: PresenceSignal): boolean {
  switch (signal.type) {
    case 'Connected': {
      const entry = state.online.get(signal.user.id);
      if (entry) {
        entry.connections.add(signal.connectionId);
        return false;
      }
      state.online.set(signal.user.id, { user: signal.user, connections: new Set([signal.connectionId]) });
      return true;
    }
    case 'Disconnected': {
      const entry = state.online.get(signal.userId);
      if (!entry || !entry.connections.delete(signal.connectionId) || entry.connections.size > 0) return false;
      state.online.delete(signal.userId);
      state.typing.delete(signal.userId);
      return true;
    }
    case 'Typing': {
      const was = state.typing.has(signal.user.id);
      if (signal.typing) state.typing.set(signal.user.id, { user: signal.user, until: signal.until });
      else state.typing.delete(signal.user.id);
      return was !== signal.typing;
    }
    case 'Tick': {
      let changed = false;
      for (const [userId, entry] of state.typing) {
        if (entry.until <= signal.now) {
          state.typing.delete(userId);
          changed = true;
        }
      }
      return changed;
    }
  }
}

export function presenceView(roomId: string, state: RoomPresence): PresenceView {
  const online = [...state.online.values()].map((entry) => entry.user);
  return { roomId, count: online.length, online, typing: [...state.typing.values()].map((entry) => entry.user) };
}
