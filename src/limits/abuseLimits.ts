import type { Redis } from 'ioredis';
import { createPasswords, type Passwords } from '../auth/passwords.js';
import type { RoomEvent } from '../domain/events.js';
import type { Budget, WriteLimitSettings, WriteLimiter } from './writeLimits.js';
import { createWriteLimiter, writeBudgets, writeOf } from './writeLimits.js';
import { noFailureBackoff, type BackoffPolicy, type FailureBackoff } from './failureBackoff.js';
import { createMemoryFailureBackoff } from './memoryFailureBackoff.js';
import { createMemoryRateLimiter } from './memoryRateLimiter.js';
import { createRedisFailureBackoff } from './redisFailureBackoff.js';
import { createRedisRateLimiter } from './redisRateLimiter.js';

export interface AbuseLimitSettings extends WriteLimitSettings {
  PASSWORD_FAILURES_PER_USER: number;
  PASSWORD_FAILURES_PER_ROOM: number;
  PASSWORD_FAILURES_PER_ADDRESS: number;
  PASSWORD_BACKOFF_MAX: number;
  PASSWORD_CHECKS_AT_ONCE: number;
  PASSWORD_CHECKS_QUEUED: number;
}

/** Where wrong passwords are counted (the chat's PasswordGuesses port has this shape). */
export type GuessBackoffs = Record<'userInRoom' | 'room' | 'address', FailureBackoff>;

export interface AbuseLimits {
  limiter: WriteLimiter;
  guesses: GuessBackoffs;
  passwords: Passwords;
  /** The memory adapters' replay at start: counts the writes `events` record (Redis keeps its own). */
  replay(events: RoomEvent[]): void;
  close(): Promise<void>;
}

/** Wrong passwords are forgotten after an hour without one (per key). */
const FORGET_FAILURES_MS = 3_600_000;

/**
 * Every limit against abuse, on the adapters the node runs with: in memory for one node, in Redis
 * (shared by every node, kept across restarts) when `redis` is given. Budgets and delays come from
 * the configuration; RATE_LIMIT_MESSAGES=0 turns all of them off (writeBudgets), and with them the
 * wrong-password delays. The bound on concurrent password checks stays: it protects the node's
 * own thread pool, not a budget of anyone's.
 */
export function createAbuseLimits(settings: AbuseLimitSettings, redis: { redis: Redis; prefix: string; onError?: (e: unknown) => void } | null): AbuseLimits {
  const makeLimiter = (budget: Budget, namespace: string | undefined) =>
    redis ? createRedisRateLimiter({ ...redis, ...budget, namespace }) : createMemoryRateLimiter(budget);
  const limiter = createWriteLimiter(writeBudgets(settings), makeLimiter);

  const off = settings.RATE_LIMIT_MESSAGES === 0;
  const backoff = (namespace: string, freeFailures: number): FailureBackoff => {
    if (off) return noFailureBackoff;
    const policy: BackoffPolicy = { freeFailures, baseDelayMs: 1_000, maxDelayMs: settings.PASSWORD_BACKOFF_MAX, forgetAfterMs: FORGET_FAILURES_MS };
    return redis ? createRedisFailureBackoff({ ...redis, namespace, policy }) : createMemoryFailureBackoff(policy);
  };
  const guesses: GuessBackoffs = {
    userInRoom: backoff('user-room', settings.PASSWORD_FAILURES_PER_USER),
    room: backoff('room', settings.PASSWORD_FAILURES_PER_ROOM),
    address: backoff('address', settings.PASSWORD_FAILURES_PER_ADDRESS),
  };
  /** Per user, the rename the replay last counted (one rename is one event in each of their rooms). */
  const lastChange = new Map<string, string>();
  const passwords = createPasswords({ concurrency: settings.PASSWORD_CHECKS_AT_ONCE, maxQueued: settings.PASSWORD_CHECKS_QUEUED });

  return {
    limiter,
    guesses,
    passwords,
    replay(events) {
      if (redis) return;
      for (const event of events) {
        const write = writeOf(event);
        if (!write) continue;
        if (write.change !== undefined) {
          // The same rename's event in the user's next room: counted already.
          if (lastChange.get(write.key) === write.change) continue;
          lastChange.set(write.key, write.change);
        }
        limiter.record(write.kind, write.key, event.at);
      }
    },
    async close() {
      await limiter.close();
      await Promise.all(Object.values(guesses).map((guess) => guess.close()));
      await passwords.close();
    },
  };
}
