/**
 * Generic cell rate algorithm: `limit` actions per `windowMs`, as a burst of up to `limit` and then
 * one every windowMs/limit. The whole state of a key is one number (the theoretical arrival time),
 * which is what makes it cheap to keep in Redis and to rebuild by replaying past actions.
 */
export interface GcraDecision {
  allowed: boolean;
  /** When not allowed: how long until one more action would be. */
  retryAfterMs: number;
  /** The key's new state (unchanged when refused). */
  tat: number;
}

export function gcra(tat: number | undefined, now: number, limit: number, windowMs: number): GcraDecision {
  const interval = windowMs / limit;
  const burst = windowMs - interval;
  const start = Math.max(tat ?? now, now);
  if (start - now > burst) return { allowed: false, retryAfterMs: start - now - burst, tat: start };
  return { allowed: true, retryAfterMs: 0, tat: start + interval };
}
