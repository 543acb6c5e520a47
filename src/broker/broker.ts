/**
 * The broker port: live fan-out of small messages between the nodes of a cluster.
 *
 * Guarantee: AT MOST ONCE. A message published while a subscriber is disconnected, or lost in
 * transit, is gone; order is kept per channel only from a single publisher. Everything that must
 * not be lost is in the event log, and subscribers repair gaps from it by seq (see RoomHub); the
 * broker only makes delivery fast.
 *
 * `subscribe` resolves only once the subscription is active at the broker, so a caller that
 * subscribes and then reads the log cannot miss an event published in between.
 */
export interface Broker {
  publish(channel: string, message: unknown): Promise<void>;
  subscribe(channel: string, onMessage: (message: unknown) => void): Promise<Unsubscribe>;
  /**
   * Whether anyone in the cluster follows the channel now: false means a message published now
   * reaches nobody. A subscriber that comes later must read the current state itself after its
   * subscribe resolves (as a presence subscription takes its own snapshot).
   */
  followed(channel: string): Promise<boolean>;
  /** Called after the broker's connection came back (messages may have been lost meanwhile). */
  onReconnect(listener: () => void): void;
  /** True when the broker answers (used by /readyz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export type Unsubscribe = () => Promise<void>;

export const roomChannel = (roomId: string): string => `room.${roomId}`;
export const presenceChannel = (roomId: string): string => `presence.${roomId}`;
export const noticeChannel = (userId: string): string => `notice.${userId}`;
