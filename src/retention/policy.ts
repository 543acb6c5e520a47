/*
 * The retention policy itself: pure, whatever the store. What a store does with a decision is a
 * strategy of its own (deleteOldEvents.ts, streamMetadata.ts).
 */

export interface RetentionPolicy {
  /** Messages older than this go. */
  maxAgeMs?: number;
  /**
   * Only a room's newest this-many messages are kept. (A store that drops stream prefixes counts
   * events instead: EventStoreDB's `$maxCount`.)
   */
  maxCount?: number;
  intervalMs: number;
}

/** Whether the policy asks for anything to go (with neither limit, retention never runs). */
export function isActive(policy: RetentionPolicy): boolean {
  return policy.maxAgeMs !== undefined || policy.maxCount !== undefined;
}

/** The age cutoff of a run starting at `now`: events created before it are too old. */
export function cutoff(policy: RetentionPolicy, now: number): number {
  return policy.maxAgeMs !== undefined ? now - policy.maxAgeMs : Number.MAX_SAFE_INTEGER;
}

/**
 * How far back a room's cut can reach at most under the policy (1 = keep everything), from its
 * last seq alone: a count of seqs bounds a count of messages. Pure.
 */
export function trimPoint(room: { head: number; firstSince: number | null }, policy: RetentionPolicy): number {
  let before = 1;
  if (policy.maxCount !== undefined) before = Math.max(before, room.head - policy.maxCount + 1);
  if (policy.maxAgeMs !== undefined) before = Math.max(before, room.firstSince ?? room.head + 1);
  return before;
}

/** Where the age limit alone puts a room's cut (1 = no age limit). Pure. */
export function ageCut(room: { head: number; firstSince: number | null }, policy: RetentionPolicy): number {
  return policy.maxAgeMs === undefined ? 1 : (room.firstSince ?? room.head + 1);
}

/** `30d`, `12h`, `90m`, `45s`, or a number of seconds. */
export function parseDuration(value: string): number | null {
  const match = /^(\d+)\s*(d|h|m|s)?$/.exec(value.trim());
  if (!match) return null;
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 }[(match[2] ?? 's') as 'd' | 'h' | 'm' | 's'];
  return Number(match[1]) * unit;
}
