import type { Logger } from 'pino';
import type { Session } from '../auth/sessions.js';
import type { RoomEvent, UserRef } from '../domain/events.js';
import type { RoomCommand, RoomState } from '../domain/room.js';
import type { ReadStreamOptions, StoredEvent } from '../eventStore/eventStore.js';
import type { FailureBackoff } from '../limits/failureBackoff.js';
import type { WriteKind } from '../limits/writeLimits.js';
import type { Metrics } from '../metrics.js';
import type { MessageRange, ReadAt } from '../readModels/readModelStore.js';
import type { MessageView, RoomView } from '../../projections/views.js';

/*
 * What the use cases receive: each port is the narrowest shape a use case calls, so any adapter
 * (or the command handler, whichever module provides it) fits by its shape, and a test can hand
 * in the in-memory adapters. Each use case declares the subset of ChatPorts it needs.
 */

/** Builds a room command from the room's current state (e.g. after checking a password against it). */
export type BuildRoomCommand = (state: RoomState) => RoomCommand | Promise<RoomCommand>;

/** What one command did: the events it appended (empty for an idempotent no-op) and the state after it. */
export interface RoomCommandOutcome {
  events: RoomEvent[];
  state: RoomState;
}

/** The room state caught up with the log: for checks that must not lag behind the read models. */
export interface RoomStates {
  load(roomId: string): Promise<RoomState>;
}

/** Decides and appends room commands (the room's command handler). */
export interface RoomCommandHandler extends RoomStates {
  execute(roomId: string, build: BuildRoomCommand): Promise<RoomCommandOutcome>;
}

/**
 * The queries the use cases make of the read models (never writes: the projector owns those).
 * Given `at`, a query answers only from views that include the log up to `at.atLeast`, and throws
 * ReadModelsBehindError otherwise (src/readModels/readModelStore.ts).
 */
export interface ReadModels {
  room(roomId: string, at?: ReadAt): Promise<RoomView | null>;
  publicRooms(limit: number, at?: ReadAt): Promise<RoomView[]>;
  memberRooms(userId: string, limit: number, at?: ReadAt): Promise<RoomView[]>;
  message(messageId: string, at?: ReadAt): Promise<MessageView | null>;
  messages(roomId: string, range: MessageRange, at?: ReadAt): Promise<MessageView[]>;
}

/** How far the read models have applied the log: reads (and commands) wait here to see what was written. */
export interface ReadModelsProgress {
  /** Resolves once the read models include `position`; rejects after `timeoutMs`. */
  waitFor(position: number, timeoutMs?: number): Promise<void>;
  /** A read found the read models at `position`, below what was believed: wait for them again. */
  rewind(position: number): void;
}

/** How long a read may wait for the read models to reach the log (README, "Consistency"). */
export interface ReadConsistency {
  /** Past this, a read behind the log answers UNAVAILABLE rather than a stale or partial view. */
  readWaitMs: number;
}

/** The raw log, for the roomEvents replay and for "has the log moved past this" checks. */
export interface EventLog {
  readStream(stream: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;
  headPosition(): Promise<number>;
}

/** Publishing to the cluster (room events, notices). At most once: see src/broker/broker.ts. */
export interface Publisher {
  publish(channel: string, message: unknown): Promise<void>;
}

/** The one presence signal a command sends: typing (on or off). */
export interface TypingSignals {
  setTyping(roomId: string, user: UserRef, typing: boolean): Promise<void>;
}

/** The rate limit of each kind of write, per user or per client address (src/limits/writeLimits.ts). */
export interface WriteLimiter {
  consume(kind: WriteKind, key: string): Promise<{ allowed: boolean; retryAfterMs: number }>;
}

/** Password hashing and checking, bounded in how many run at once (src/auth/passwords.ts). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** `beforeCheck` runs once the check has its turn, right before the hash is computed; it may refuse. */
  verify(password: string, stored: string, beforeCheck?: () => Promise<void>): Promise<boolean>;
}

/** Where wrong passwords are counted: per (room, user), per room, per client address. */
export type GuessScope = 'userInRoom' | 'room' | 'address';

/** Growing delays after wrong passwords, one per scope (src/limits/failureBackoff.ts). */
export type PasswordGuesses = Record<GuessScope, Pick<FailureBackoff, 'wait' | 'fail'>>;

export interface SessionIssuer {
  create(name: string): Promise<Session>;
  issue(user: UserRef): Promise<Session>;
}

/** The counters the use cases feed (src/metrics.ts). */
export type CommandMetrics = Pick<Metrics, 'commandSeconds' | 'eventsAppended' | 'publishFailures' | 'rateLimited'>;

/** Input size limits from the configuration. */
export interface InputLimits {
  maxBodyChars: number;
  maxNameChars: number;
  /**
   * How long a password guess refused for its delay is held before the answer (at most): a guesser
   * that retries the moment it is answered then pays in waiting, not in the node's CPU.
   */
  refusedGuessHoldMs?: number;
}

export interface ChatPorts {
  commands: RoomCommandHandler;
  readModels: ReadModels;
  progress: ReadModelsProgress;
  consistency: ReadConsistency;
  store: EventLog;
  broker: Publisher;
  presence: TypingSignals;
  limiter: WriteLimiter;
  passwords: PasswordHasher;
  guesses: PasswordGuesses;
  sessions: SessionIssuer;
  metrics: CommandMetrics;
  log: Pick<Logger, 'warn'>;
  limits: InputLimits;
}
