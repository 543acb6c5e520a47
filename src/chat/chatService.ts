import type { Logger } from 'pino';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import type { Sessions } from '../auth/sessions.js';
import { noticeChannel, roomChannel, type Broker } from '../broker/broker.js';
import type { RoomEvent, UserRef } from '../domain/events.js';
import { toRoomEvent } from '../domain/fromStored.js';
import { messageIdFor, newRoomId, postEventId, roomIdOfMessage } from '../domain/ids.js';
import type { RoomRepository } from '../domain/roomRepository.js';
import { roomStream } from '../domain/events.js';
import type { EventStore } from '../eventStore/eventStore.js';
import { forbidden, notFound, rateLimited, unauthenticated } from '../errors.js';
import type { RateLimiter } from '../limits/rateLimiter.js';
import type { Metrics } from '../metrics.js';
import type { PresenceStore } from '../presence/presenceStore.js';
import type { ReadModelStore } from '../readModels/readModelStore.js';
import type { ProjectionRunner } from '../../projections/runner.js';
import type { MessageView, RoomView } from '../../projections/views.js';
import { projectMessage } from '../../projections/history.js';
import * as valid from './validate.js';

export interface ChatServiceDeps {
  store: EventStore;
  repository: RoomRepository;
  readModels: ReadModelStore;
  projections: ProjectionRunner;
  broker: Broker;
  presence: PresenceStore;
  limiter: RateLimiter;
  sessions: Sessions;
  metrics: Metrics;
  log: Logger;
  limits: { maxBodyChars: number; maxNameChars: number; rateLimitWindowMs: number };
}

/** A notice for one user, published on their notice channel. */
export interface NoticeView {
  kind: string;
  message: string;
  until: number | null;
}

/**
 * The use cases behind the GraphQL API: validation, authorization, rate limits, then a command on
 * the room aggregate; after the append, a publish to the broker (never allowed to fail the send)
 * and a wait for the read models, so a client that reads right after writing sees its write.
 */
export class ChatService {
  constructor(private readonly deps: ChatServiceDeps) {}

  createSession(name: string) {
    return this.deps.sessions.create(valid.displayName(name, 'name', this.deps.limits.maxNameChars));
  }

  async createRoom(viewer: UserRef | null, name: string, password?: string | null): Promise<RoomView> {
    const by = requireViewer(viewer);
    const roomName = valid.displayName(name, 'room name', this.deps.limits.maxNameChars);
    const clear = valid.password(password);
    const passwordHash = clear === null ? null : await hashPassword(clear);
    const roomId = newRoomId();
    const outcome = await this.run('createRoom', roomId, () => ({ type: 'CreateRoom', roomId, name: roomName, passwordHash, by }));
    return this.roomAfter(roomId, outcome);
  }

  async joinRoom(viewer: UserRef | null, roomId: string, password?: string | null): Promise<RoomView> {
    const user = requireViewer(viewer);
    valid.id(roomId, 'roomId');
    const outcome = await this.run('joinRoom', roomId, async (state) => {
      const hash = state.room?.passwordHash ?? null;
      const passwordAccepted = hash === null || (typeof password === 'string' && (await verifyPassword(password, hash)));
      return { type: 'JoinRoom', user, passwordAccepted };
    });
    return this.roomAfter(roomId, outcome);
  }

  async leaveRoom(viewer: UserRef | null, roomId: string): Promise<RoomView> {
    const user = requireViewer(viewer);
    valid.id(roomId, 'roomId');
    const outcome = await this.run('leaveRoom', roomId, () => ({ type: 'LeaveRoom', user }));
    return this.roomAfter(roomId, outcome);
  }

  async sendMessage(viewer: UserRef | null, roomId: string, body: string, clientMessageId: string): Promise<MessageView> {
    const author = requireViewer(viewer);
    valid.id(roomId, 'roomId');
    valid.clientMessageId(clientMessageId);
    valid.messageBody(body, this.deps.limits.maxBodyChars);
    const messageId = messageIdFor(roomId, postEventId(roomId, author.id, clientMessageId));
    // A resend of something already projected is answered without touching the limit or the log.
    // Only a shortcut: if the read models are slow or away (Redis down), the aggregate still
    // recognises the resend, so the send must not wait on them.
    const known = await within(this.deps.readModels.message(messageId), 200, null);
    if (known) return known;
    // Stored but not projected yet (the projector is catching up, say after a node died): still a
    // resend, and a resend must never be refused for the rate, so ask the log itself.
    if ((await this.deps.repository.load(roomId)).messages.has(messageId)) return this.messageAfter(messageId, []);
    const limit = await this.deps.limiter.consume(author.id);
    if (!limit.allowed) {
      this.deps.metrics.rateLimited.inc();
      this.notify(author.id, {
        kind: 'RATE_LIMITED',
        message: `You are sending too fast; wait ${Math.ceil(limit.retryAfterMs / 1000)} s.`,
        until: Date.now() + limit.retryAfterMs,
      });
      throw rateLimited(limit.retryAfterMs);
    }
    // No wait for the read models: a new message is fully known from its event, and the sender
    // is acknowledged as soon as it is durable (the hot path; other commands wait, see `run`).
    const outcome = await this.run('sendMessage', roomId, () => ({ type: 'PostMessage', author, clientMessageId, body }), false);
    void this.deps.presence.setTyping(roomId, author, false).catch(() => {});
    const posted = outcome.events.find((event) => event.type === 'MessagePosted');
    const view = posted && projectMessage(undefined, posted);
    if (view) return view;
    return this.messageAfter(messageId, outcome.events);
  }

  async editMessage(viewer: UserRef | null, messageId: string, body: string): Promise<MessageView> {
    const by = requireViewer(viewer);
    const roomId = roomOf(messageId);
    valid.messageBody(body, this.deps.limits.maxBodyChars);
    const outcome = await this.run('editMessage', roomId, () => ({ type: 'EditMessage', by, messageId, body }));
    return this.messageAfter(messageId, outcome.events);
  }

  async deleteMessage(viewer: UserRef | null, messageId: string): Promise<MessageView> {
    const by = requireViewer(viewer);
    const roomId = roomOf(messageId);
    const outcome = await this.run('deleteMessage', roomId, () => ({ type: 'DeleteMessage', by, messageId }));
    return this.messageAfter(messageId, outcome.events);
  }

  async setTyping(viewer: UserRef | null, roomId: string, typing: boolean): Promise<boolean> {
    const user = requireViewer(viewer);
    const state = await this.deps.repository.load(valid.id(roomId, 'roomId'));
    if (!state.room) throw notFound('room');
    if (!state.members.has(user.id)) throw forbidden('join the room first');
    await this.deps.presence.setTyping(roomId, user, typing);
    return typing;
  }

  /**
   * Retention's decision for a room, recorded in its log; resolves with where its messages now
   * start. A system command: no viewer, never called from the API.
   */
  async trimHistory(roomId: string, beforeSeq: number, options: { carrySnapshot?: boolean } = {}): Promise<number> {
    const { carrySnapshot } = options;
    const outcome = await this.run('trimHistory', roomId, () => ({ type: 'TrimHistory', beforeSeq, carrySnapshot }), false);
    return outcome.state.trimmedBefore;
  }

  /**
   * Before a store starts keeping only a room's newest `keepLast` events: makes sure a snapshot
   * of the room is among them (the repository keeps it so from then on). A system command.
   */
  async carryRoomForward(roomId: string, keepLast: number): Promise<void> {
    const state = await this.deps.repository.load(roomId);
    if (!state.room || state.revision - state.foldableFrom < Math.max(1, Math.floor(keepLast / 2))) return;
    await this.trimHistory(roomId, state.revision + 2 - keepLast, { carrySnapshot: true });
  }

  room(roomId: string): Promise<RoomView | null> {
    return this.deps.readModels.room(valid.id(roomId, 'roomId'));
  }

  rooms(): Promise<RoomView[]> {
    return this.deps.readModels.publicRooms(500);
  }

  async messages(viewer: UserRef | null, roomId: string, range: { before?: number | null; after?: number | null; limit?: number | null }) {
    await this.assertCanRead(viewer, roomId);
    return this.deps.readModels.messages(roomId, {
      before: valid.seq(range.before, 'before'),
      after: valid.seq(range.after, 'after'),
      limit: valid.limit(range.limit, 50, 200),
    });
  }

  /** Raw replay from the log itself (not a projection): exactly what was appended. */
  async roomEvents(viewer: UserRef | null, roomId: string, afterSeq: number | null | undefined, limit: number | null | undefined) {
    const { oldestSeq } = await this.assertCanRead(viewer, roomId);
    // Older than what retention kept: start at the oldest kept seq (its HistoryTrimmed event says why).
    const from = Math.max((valid.seq(afterSeq, 'afterSeq') ?? 0) + 1, oldestSeq);
    const stored = await this.deps.store.readStream(roomStream(roomId), { fromRevision: from, limit: valid.limit(limit, 100, 1_000) });
    return stored.map(toRoomEvent).filter((event): event is RoomEvent => event !== null);
  }

  /**
   * Anyone with a session reads a public room; a private room only its members. Also tells the
   * oldest seq whose messages retention kept (1 until it removes any), from the same load.
   */
  async assertCanRead(viewer: UserRef | null, roomId: string): Promise<{ user: UserRef; oldestSeq: number }> {
    const user = requireViewer(viewer);
    const state = await this.deps.repository.load(valid.id(roomId, 'roomId'));
    if (!state.room) throw notFound('room');
    if (state.room.passwordHash !== null && !state.members.has(user.id)) {
      throw forbidden('this room is private: join it with its password first');
    }
    return { user, oldestSeq: state.trimmedBefore };
  }

  notify(userId: string, notice: NoticeView): void {
    this.deps.broker.publish(noticeChannel(userId), notice).catch((error) => {
      this.deps.log.warn({ err: error }, 'notice publish failed');
    });
  }

  /** Decides and appends, publishes, and (unless told not to) waits until the read models have it. */
  private async run(command: string, roomId: string, build: Parameters<RoomRepository['execute']>[1], waitForReadModels = true) {
    const stop = this.deps.metrics.commandSeconds.startTimer({ command });
    const outcome = await this.deps.repository.execute(roomId, build);
    stop();
    for (const event of outcome.events) {
      this.deps.metrics.eventsAppended.inc({ type: event.type });
      // Publishing is fire-and-forget: the event is durable already, and a lost publish is
      // repaired by every subscriber's head-seq check. A send never fails because of the broker.
      this.deps.broker.publish(roomChannel(roomId), event).catch((error) => {
        this.deps.metrics.publishFailures.inc();
        this.deps.log.warn({ err: error, roomId, seq: event.seq }, 'publish failed; subscribers will repair from the log');
      });
    }
    const last = outcome.events.at(-1);
    if (last && waitForReadModels) await this.deps.projections.waitFor(last.position).catch((error) => this.deps.log.warn({ err: error }, 'read models lag'));
    return outcome;
  }

  private async roomAfter(roomId: string, outcome: { state: { room: unknown } }): Promise<RoomView> {
    const view = await this.deps.readModels.room(roomId);
    if (!view || !outcome.state.room) throw notFound('room');
    return view;
  }

  private async messageAfter(messageId: string, events: RoomEvent[]): Promise<MessageView> {
    let view = await this.deps.readModels.message(messageId);
    if (view) return view;
    if (events.length === 0) {
      // Nothing appended (a resend racing its original): the original is in the log, so wait
      // until the read models have caught up with the log and answer from them.
      await this.deps.projections.waitFor(await this.deps.store.headPosition()).catch(() => {});
      view = await this.deps.readModels.message(messageId);
      if (view) return view;
    }
    throw notFound('message');
  }
}

/** The promise's value, or `fallback` if it fails or takes longer than `ms`. */
function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  return Promise.race([promise.catch(() => fallback), timeout]).finally(() => clearTimeout(timer));
}

function requireViewer(viewer: UserRef | null): UserRef {
  if (!viewer) throw unauthenticated();
  return viewer;
}

function roomOf(messageId: string): string {
  const roomId = roomIdOfMessage(valid.id(messageId, 'messageId'));
  if (!roomId) throw notFound('message');
  return roomId;
}
