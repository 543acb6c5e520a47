import { applyPresence, emptyPresence, presenceView, type PresenceSignal, type RoomPresence } from './presenceView.js';
import type { PresenceStore } from './presenceStore.js';

/**
 * Presence in this process's memory: serves ONE node only. A timer lapses typing flags; rooms with
 * nobody online and nobody typing are forgotten.
 */
export function createMemoryPresenceStore(options: { typingTtlMs?: number; tickMs?: number } = {}): PresenceStore {
  const { typingTtlMs = 5_000, tickMs = 500 } = options;
  const rooms = new Map<string, RoomPresence>();
  const listeners: Array<(roomId: string) => void> = [];

  function apply(roomId: string, signal: PresenceSignal): void {
    let state = rooms.get(roomId);
    if (!state) rooms.set(roomId, (state = emptyPresence()));
    const changed = applyPresence(state, signal);
    if (state.online.size === 0 && state.typing.size === 0) rooms.delete(roomId);
    if (changed) for (const listener of listeners) listener(roomId);
  }

  const timer = setInterval(() => {
    const now = Date.now();
    for (const [roomId, state] of rooms) if (state.typing.size > 0) apply(roomId, { type: 'Tick', now });
  }, tickMs);
  timer.unref();

  return {
    async connect(roomId, user, connectionId) {
      apply(roomId, { type: 'Connected', user, connectionId });
    },
    async disconnect(roomId, userId, connectionId) {
      apply(roomId, { type: 'Disconnected', userId, connectionId });
    },
    async setTyping(roomId, user, typing) {
      apply(roomId, { type: 'Typing', user, typing, until: Date.now() + typingTtlMs });
    },
    async snapshot(roomId) {
      return presenceView(roomId, rooms.get(roomId) ?? emptyPresence());
    },
    onChange(listener) {
      listeners.push(listener);
    },
    async close() {
      clearInterval(timer);
      rooms.clear();
    },
  };
}
