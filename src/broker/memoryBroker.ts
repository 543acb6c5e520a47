import type { Broker } from './broker.js';

/**
 * In-process broker: serves ONE node only (nothing crosses a process boundary). Delivery is
 * synchronous inside `publish`, in subscription order, and never lost while subscribed.
 * Messages are handed over as they are (no copy): subscribers must treat them as read-only.
 */
export function createMemoryBroker(): Broker {
  const channels = new Map<string, Set<(message: unknown) => void>>();
  return {
    async publish(channel, message) {
      for (const listener of channels.get(channel) ?? []) {
        try {
          listener(message);
        } catch {
          // One failing subscriber must not keep the message from the others.
        }
      }
    },
    async subscribe(channel, onMessage) {
      let listeners = channels.get(channel);
      if (!listeners) channels.set(channel, (listeners = new Set()));
      // Wrapped so the same function subscribed twice counts twice, like two Redis subscriptions.
      const listener = (message: unknown) => onMessage(message);
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
        if (listeners.size === 0 && channels.get(channel) === listeners) channels.delete(channel);
      };
    },
    async followed(channel) {
      return (channels.get(channel)?.size ?? 0) > 0;
    },
    onReconnect() {},
    async ping() {
      return true;
    },
    async close() {
      channels.clear();
    },
  };
}
