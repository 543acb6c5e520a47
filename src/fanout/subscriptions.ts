import type { Broker } from '../broker/broker.js';
import { badInput, unauthenticated } from '../domain/errors.js';
import { noticeChannel, presenceChannel } from '../broker/broker.js';
import type { NoticeView } from '../chat/notices.js';
import type { RoomAccess } from '../chat/roomAccess.js';
import type { UserRef } from '../domain/events.js';
import type { Metrics } from '../metrics.js';
import type { PresenceStore } from '../presence/presenceStore.js';
import type { PresenceView } from '../presence/presenceView.js';
import { IteratorSink } from './iteratorSink.js';
import type { RoomHub, RoomSubscriber } from './roomHub.js';

/**
 * The three subscriptions of the API, independent of transport. Authorization happens before
 * anything is attached; following a room's events or presence makes the user online there until
 * the returned stop function runs.
 */
export class Subscriptions {
  private followers = 0;
  constructor(
    private readonly deps: { hub: RoomHub; broker: Broker; presence: PresenceStore; access: RoomAccess; metrics: Metrics },
  ) {}

  /** Authorizes and starts delivery to `subscriber`; the returned function stops it. */
  async roomEvents(
    viewer: UserRef | null,
    roomId: string,
    afterSeq: number | null | undefined,
    connectionId: string,
    subscriber: RoomSubscriber,
  ): Promise<() => void> {
    const { user, oldestSeq } = await this.deps.access.assertCanRead(viewer, roomId);
    if (afterSeq !== null && afterSeq !== undefined && (!Number.isInteger(afterSeq) || afterSeq < 0)) {
      throw badInput('afterSeq must be a whole number ≥ 0');
    }
    // An afterSeq older than what retention kept starts at the oldest kept seq; the room's
    // HistoryTrimmed event, which comes in order, tells the client why the seqs jump.
    if (afterSeq !== null && afterSeq !== undefined) afterSeq = Math.max(afterSeq, oldestSeq - 1);
    const online = this.online(roomId, user, connectionId);
    try {
      const detach = await this.deps.hub.attach(roomId, afterSeq ?? undefined, subscriber);
      this.deps.metrics.subscriptions.inc();
      return () => {
        detach();
        online();
        this.deps.metrics.subscriptions.dec();
      };
    } catch (error) {
      online();
      throw error;
    }
  }

  /** roomEvents as an async iterator (SSE and the generic GraphQL path). */
  async roomEventsIterator(viewer: UserRef | null, roomId: string, afterSeq: number | null | undefined, connectionId: string) {
    const sink = new IteratorSink();
    const stop = await this.roomEvents(viewer, roomId, afterSeq, connectionId, sink);
    sink.onReturn = stop;
    return sink;
  }

  presenceSnapshot(roomId: string): Promise<PresenceView> {
    return this.deps.presence.snapshot(roomId);
  }

  /** The current presence at once, then every change. */
  async presence(viewer: UserRef | null, roomId: string, connectionId: string): Promise<AsyncIterableIterator<PresenceView>> {
    const { user } = await this.deps.access.assertCanRead(viewer, roomId);
    const sink = new IteratorSink<PresenceView>(100);
    // Subscribe before taking the snapshot so no change falls between the two.
    const unsubscribe = await this.deps.broker.subscribe(presenceChannel(roomId), (view) => sink.push(view as PresenceView));
    const online = this.online(roomId, user, connectionId);
    this.deps.metrics.subscriptions.inc();
    sink.onReturn = () => {
      online();
      void unsubscribe();
      this.deps.metrics.subscriptions.dec();
    };
    sink.push(await this.deps.presence.snapshot(roomId));
    return sink;
  }

  async notices(viewer: UserRef | null): Promise<AsyncIterableIterator<NoticeView>> {
    if (!viewer) {
      throw unauthenticated();
    }
    const sink = new IteratorSink<NoticeView>(100);
    const unsubscribe = await this.deps.broker.subscribe(noticeChannel(viewer.id), (notice) => sink.push(notice as NoticeView));
    this.deps.metrics.subscriptions.inc();
    sink.onReturn = () => {
      void unsubscribe();
      this.deps.metrics.subscriptions.dec();
    };
    return sink;
  }

  /** Marks the user online in the room for this connection; the returned function undoes it once. */
  private online(roomId: string, user: UserRef, connectionId: string): () => void {
    const { presence } = this.deps;
    // One token per subscription: two subscriptions of one connection to one room count apart,
    // so ending one of them does not take the user offline while the other still follows.
    connectionId = `${connectionId}#${++this.followers}`;
    const connected = presence.connect(roomId, user, connectionId).catch(() => {});
    let done = false;
    return () => {
      if (done) return;
      done = true;
      void connected.then(() => presence.disconnect(roomId, user.id, connectionId)).catch(() => {});
    };
  }
}
