/**
 * The use cases over the in-memory adapters: a memory event store, the room command handler, a
 * real projection runner feeding memory read models, a memory broker, presence and rate limiter.
 * Only what a test needs to watch (or break) is wrapped: publishes, read-model waits, warnings.
 */
import { expect } from 'vitest';
import { createSessions } from '../../../src/auth/sessions.js';
import { createMemoryBroker } from '../../../src/broker/memoryBroker.js';
import type { ChatPorts } from '../../../src/chat/ports.js';
import { createRoomAccess } from '../../../src/chat/roomAccess.js';
import { createRoomTrimmer, createUseCases } from '../../../src/chat/useCases.js';
import { createRoomCommandHandler } from '../../../src/commandHandling/roomCommandHandler.js';
import type { ChatErrorKind } from '../../../src/domain/errors.js';
import { roomStream, type UserRef } from '../../../src/domain/events.js';
import { createMemoryEventStore } from '../../../src/eventStore/memoryEventStore.js';
import { createPasswords } from '../../../src/auth/passwords.js';
import { noFailureBackoff } from '../../../src/limits/failureBackoff.js';
import { createMemoryFailureBackoff } from '../../../src/limits/memoryFailureBackoff.js';
import { createMemoryRateLimiter } from '../../../src/limits/memoryRateLimiter.js';
import { WRITE_KINDS, createWriteLimiter, type Budget, type WriteKind } from '../../../src/limits/writeLimits.js';
import { createMetrics } from '../../../src/metrics.js';
import { createMemoryPresenceStore } from '../../../src/presence/memoryPresenceStore.js';
import { createProjectionRunner } from '../../../src/projector/runner.js';
import { createMemoryReadModelStore } from '../../../src/readModels/memoryReadModelStore.js';

export const ada: UserRef = { id: 'u-ada', name: 'Ada' };
export const bob: UserRef = { id: 'u-bob', name: 'Bob' };

export interface HarnessOptions {
  /** Sends per user per window (0: no limit). */
  rateLimit?: number;
  /** Budgets of the other writes (default: none limited). */
  budgets?: Partial<Record<WriteKind, Budget>>;
  /** Wrong passwords free of delay per scope (default: no delays); the delays start at 1 s. */
  passwordFailures?: number;
  maxBodyChars?: number;
  maxNameChars?: number;
}

export async function chatHarness(options: HarnessOptions = {}) {
  const store = createMemoryEventStore();
  const readModels = createMemoryReadModelStore();
  const projections = createProjectionRunner({ store, readModels });
  await projections.start();
  const memoryBroker = createMemoryBroker();
  const presence = createMemoryPresenceStore();
  const budgets = Object.fromEntries(WRITE_KINDS.map((kind) => [kind, options.budgets?.[kind] ?? { limit: 0, windowMs: 60_000 }])) as Record<WriteKind, Budget>;
  budgets.send = { limit: options.rateLimit ?? 0, windowMs: 60_000 };
  const limiter = createWriteLimiter(budgets, (budget) => createMemoryRateLimiter(budget));
  const backoff = () =>
    options.passwordFailures === undefined
      ? noFailureBackoff
      : createMemoryFailureBackoff({ freeFailures: options.passwordFailures, baseDelayMs: 1_000, maxDelayMs: 60_000, forgetAfterMs: 3_600_000 });
  const guesses = { userInRoom: backoff(), room: backoff(), address: backoff() };
  const metrics = createMetrics('test');
  const warnings: unknown[][] = [];
  /** Positions the use cases waited for the read models to reach, in order. */
  const waited: number[] = [];
  /** Set to make every publish fail (a broker that is down). */
  const broken = { broker: false };

  const ports: ChatPorts = {
    commands: createRoomCommandHandler(store),
    readModels,
    progress: {
      waitFor(position, timeoutMs) {
        waited.push(position);
        return projections.waitFor(position, timeoutMs);
      },
      rewind: (position) => projections.rewind(position),
    },
    consistency: { readWaitMs: 2_000 },
    store,
    broker: {
      publish: (channel, message) => (broken.broker ? Promise.reject(new Error('broker down')) : memoryBroker.publish(channel, message)),
    },
    presence,
    limiter,
    passwords: createPasswords({ concurrency: 2, maxQueued: 10 }),
    guesses,
    sessions: createSessions({ secret: new TextEncoder().encode('unit-test-secret'), ttlSeconds: 60 }),
    metrics,
    log: { warn: (...args: unknown[]) => void warnings.push(args) },
    limits: { maxBodyChars: options.maxBodyChars ?? 100, maxNameChars: options.maxNameChars ?? 20 },
  };
  const access = createRoomAccess(ports);

  return {
    ports,
    access,
    chat: createUseCases(ports, access),
    trimmer: createRoomTrimmer(ports),
    store,
    readModels,
    presence,
    metrics,
    warnings,
    waited,
    broken,
    /** Collects what is published on `channel` from now on (the memory broker delivers synchronously). */
    async listen(channel: string): Promise<unknown[]> {
      const received: unknown[] = [];
      await memoryBroker.subscribe(channel, (message) => received.push(message));
      return received;
    },
    /** The value of a counter (or of one label of it). */
    async count(metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> }, labels: Record<string, string> = {}) {
      const { values } = await metric.get();
      const matching = values.filter((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value));
      return matching.reduce((sum, v) => sum + v.value, 0);
    },
    /** Types of the room's events in its log, in seq order. */
    async logTypes(roomId: string): Promise<string[]> {
      return (await store.readStream(roomStream(roomId))).map((event) => event.type);
    },
    async close() {
      await projections.close();
      await presence.close();
      await limiter.close();
      await Promise.all(Object.values(guesses).map((guess) => guess.close()));
      await memoryBroker.close();
      await readModels.close();
      await store.close();
    },
  };
}

export type ChatHarness = Awaited<ReturnType<typeof chatHarness>>;

/** A public room made by ada, with bob a member too (unless told not to add him). */
export async function publicRoom(h: ChatHarness, opts: { withBob?: boolean } = {}): Promise<string> {
  const room = await h.chat.createRoom(ada, 'lobby');
  if (opts.withBob !== false) await h.chat.joinRoom(bob, room.id);
  return room.id;
}

/**
 * Expects `run` to fail with a domain error of `kind` (and, if given, a matching message), whether
 * it throws at once (as the use cases that are not async do) or rejects.
 */
export async function expectRejects(run: () => unknown, kind: ChatErrorKind, message?: string | RegExp): Promise<void> {
  const error = await Promise.resolve()
    .then(run)
    .then(
      () => expect.fail(`expected a ${kind} error`),
      (e: unknown) => e,
    );
  expect(error).toMatchObject({ kind });
  if (message !== undefined) expect((error as Error).message).toMatch(message);
}
