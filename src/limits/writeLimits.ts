import type { RoomEvent } from '../domain/events.js';
import type { RateLimiter } from './rateLimiter.js';

/**
 * Every rate-limited write, each with its own budget: per user, except the two per client address
 * (sessions are free to make, so a per-user limit alone would be one new session away). The README's
 * "Limits and abuse" table lists each with its setting and default.
 */
export const WRITE_KINDS = ['send', 'edit', 'delete', 'membership', 'rename', 'createRoom', 'typing', 'sessionPerAddress', 'roomPerAddress'] as const;
export type WriteKind = (typeof WRITE_KINDS)[number];

/** A GCRA budget: a burst of `limit`, then one every windowMs/limit. A limit of 0 is no limit. */
export interface Budget {
  limit: number;
  windowMs: number;
}

export interface RateDecision {
  allowed: boolean;
  retryAfterMs: number;
}

/** One rate limiter per kind of write. */
export interface WriteLimiter {
  consume(kind: WriteKind, key: string): Promise<RateDecision>;
  /** Counts a write that already happened (the memory adapter's replay at start). */
  record(kind: WriteKind, key: string, at: number): void;
  close(): Promise<void>;
}

/**
 * Builds the limiter of each kind with `make` (memory or Redis). `send` keeps the key space it
 * always had (`rate:<user>` in Redis), so upgrading a running cluster keeps its send states.
 */
export function createWriteLimiter(
  budgets: Record<WriteKind, Budget>,
  make: (budget: Budget, namespace: string | undefined) => RateLimiter,
): WriteLimiter {
  const limiters = new Map<WriteKind, RateLimiter>(WRITE_KINDS.map((kind) => [kind, make(budgets[kind], kind === 'send' ? undefined : kind)]));
  const of = (kind: WriteKind) => limiters.get(kind)!;
  return {
    consume: (kind, key) => of(kind).consume(key),
    record: (kind, key, at) => of(kind).record(key, at),
    async close() {
      await Promise.all([...limiters.values()].map((limiter) => limiter.close()));
    },
  };
}

/** What the configuration says of each budget (the variables are in src/config.ts). */
export interface WriteLimitSettings {
  RATE_LIMIT_MESSAGES: number;
  RATE_LIMIT_WINDOW_MS: number;
  RATE_LIMIT_EDITS: Budget;
  RATE_LIMIT_DELETES: Budget;
  RATE_LIMIT_JOINS: Budget;
  RATE_LIMIT_RENAMES: Budget;
  RATE_LIMIT_ROOMS: Budget;
  RATE_LIMIT_TYPING: Budget;
  RATE_LIMIT_SESSIONS_PER_ADDRESS: Budget;
  RATE_LIMIT_ROOMS_PER_ADDRESS: Budget;
}

/**
 * The budget of each kind. `RATE_LIMIT_MESSAGES=0` turns every one of them off, per user and per
 * address: benchmarks and load tests make thousands of sessions and writes from one address, and
 * that one switch is what they set.
 */
export function writeBudgets(settings: WriteLimitSettings): Record<WriteKind, Budget> {
  const budgets: Record<WriteKind, Budget> = {
    send: { limit: settings.RATE_LIMIT_MESSAGES, windowMs: settings.RATE_LIMIT_WINDOW_MS },
    edit: settings.RATE_LIMIT_EDITS,
    delete: settings.RATE_LIMIT_DELETES,
    membership: settings.RATE_LIMIT_JOINS,
    rename: settings.RATE_LIMIT_RENAMES,
    createRoom: settings.RATE_LIMIT_ROOMS,
    typing: settings.RATE_LIMIT_TYPING,
    sessionPerAddress: settings.RATE_LIMIT_SESSIONS_PER_ADDRESS,
    roomPerAddress: settings.RATE_LIMIT_ROOMS_PER_ADDRESS,
  };
  if (settings.RATE_LIMIT_MESSAGES === 0) for (const kind of WRITE_KINDS) budgets[kind] = { limit: 0, windowMs: budgets[kind].windowMs };
  return budgets;
}

/**
 * The per-user write an event of the log records, for the memory adapter's replay at start (the
 * Redis adapter keeps its state across restarts itself). Edits and deletes do not name their
 * author in the event, and addresses are not in the log at all: those limits start afresh after
 * a restart of a node without Redis.
 */
export function writeOf(event: RoomEvent): { kind: WriteKind; key: string; change?: string } | null {
  switch (event.type) {
    case 'MessagePosted':
      return { kind: 'send', key: event.data.author.id };
    case 'RoomCreated':
      return { kind: 'createRoom', key: event.data.createdBy.id };
    // Seq 2 is the creator's own join, part of creating the room (not a join of its own).
    case 'MemberJoined':
      return event.seq > 2 ? { kind: 'membership', key: event.data.user.id } : null;
    case 'MemberLeft':
      return { kind: 'membership', key: event.data.user.id };
    // One rename writes one event into each room of its user, all naming the same change: the
    // replay counts a run of them once (abuseLimits.ts).
    case 'MemberRenamed':
      return { kind: 'rename', key: event.data.user.id, change: `${event.data.previousName}\u0000${event.data.user.name}` };
    default:
      return null;
  }
}
