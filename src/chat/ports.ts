import type { Logger } from 'pino';
import type { Session } from '../auth/sessions.js';
import type { RoomEvent, UserRef } from '../domain/events.js';
import type { RoomCommand, RoomState } from '../domain/room.js';
import type { ReadStreamOptions, StoredEvent } from '../eventStore/eventStore.js';
import type { Metrics } from '../metrics.js';
import type { MessageRange } from '../readModels/readModelStore.js';
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

/** The queries the use cases make of the read models (never writes: the projector owns those). */
export interface ReadModels {
  room(roomId: string): Promise<RoomView | null>;
  publicRooms(limit: number): Promise<RoomView[]>;
  message(messageId: string): Promise<MessageView | null>;
  messages(roomId: string, range: MessageRange): Promise<MessageView[]>;
}

/** How far the read models have applied the log: a command waits here so its caller reads its write. */
export interface ReadModelsProgress {
  waitFor(position: number): Promise<void>;
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

/** The send rate limit, per user. */
export interface SendLimiter {
  consume(key: string): Promise<{ allowed: boolean; retryAfterMs: number }>;
}

export interface SessionIssuer {
  create(name: string): Promise<Session>;
}

/** The counters the use cases feed (src/metrics.ts). */
export type CommandMetrics = Pick<Metrics, 'commandSeconds' | 'eventsAppended' | 'publishFailures' | 'rateLimited'>;

/** Input size limits from the configuration. */
export interface InputLimits {
  maxBodyChars: number;
  maxNameChars: number;
}

export interface ChatPorts {
  commands: RoomCommandHandler;
  readModels: ReadModels;
  progress: ReadModelsProgress;
  store: EventLog;
  broker: Publisher;
  presence: TypingSignals;
  limiter: SendLimiter;
  sessions: SessionIssuer;
  metrics: CommandMetrics;
  log: Pick<Logger, 'warn'>;
  limits: InputLimits;
}
