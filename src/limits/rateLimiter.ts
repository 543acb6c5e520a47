/**
 * Per-key rate limit (a key is a user). `consume` counts one action at `now` if allowed.
 *
 * Guarantee: holds across restarts. The memory adapter gets there by replaying the sends still
 * inside the window from the event log at start (`record`); the Redis adapter keeps the state in
 * Redis, shared by every node.
 */
export interface RateLimiter {
  consume(key: string, now?: number): Promise<{ allowed: boolean; retryAfterMs: number }>;
  /** Counts an action that already happened (replay at start), without refusing it. */
  record(key: string, at: number): void;
  close(): Promise<void>;
}
