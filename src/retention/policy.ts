/*
 * The retention policy itself: pure, whatever the store. What a store does with a decision is a
 * strategy of its own (deleteOldEvents.ts, streamMetadata.ts).
 */

export interface RetentionPolicy {
  /** Messages older than this go. */
  maxAgeMs?: number;
  /** Only the newest this-many seqs of a room keep their messages. */
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

/** Where a room's messages should start under the policy (1 = keep everything). Pure. */
export function trimPoint(room: { head: number; firstSince: number | null }, policy: RetentionPolicy): number {
  let before = 1;
  if (policy.maxCount !== undefined) before = Math.max(before, room.head - policy.maxCount + 1);
  if (policy.maxAgeMs !== undefined) before = Math.max(before, room.firstSince ?? room.head + 1);
  return before;
}

/** `30d`, `12h`, `90m`, `45s`, or a number of seconds. */
export function parseDuration(value: string): number | null {
  const match = /^(\d+)\s*(d|h|m|s)?$/.exec(value.trim());
  if (!match) return null;
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 }[(match[2] ?? 's') as 'd' | 'h' | 'm' | 's'];
  return Number(match[1]) * unit;
}
