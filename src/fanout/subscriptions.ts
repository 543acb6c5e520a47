import type { Broker } from '../broker/broker.js';
import { badInput, forbidden, unauthenticated } from '../domain/errors.js';
import { noticeChannel, presenceChannel } from '../broker/broker.js';
import type { NoticeView } from '../chat/notices.js';
import type { ReadGrant, RoomAccess } from '../chat/roomAccess.js';
import type { RoomEvent, UserRef } from '../domain/events.js';
import type { Metrics } from '../metrics.js';
import type { PresenceStore } from '../presence/presenceStore.js';
import type { PresenceView } from '../presence/presenceView.js';
import { IteratorSink } from './iteratorSink.js';
import type { RoomHub, RoomSubscriber } from './roomHub.js';

/** A subscription the server can end: with an error the client gets as the operation's, or plainly. */
export interface Endable {
  fail(error: unknown): void;
  return(): Promise<unknown>;
}

/** Where a roomEvents subscription's events go, and how the server ends it (a leave). */
export type LeavableSubscriber = RoomSubscriber & Endable;

/** One open subscription of a user to a room, ended if the user leaves it after `checkedAt`. */
interface Following {
  checkedAt: number;
  leave: () => void;
}

/** Runs the cleanups of one subscription once, in reverse order; one added after the end runs at once. */
class Teardown {
  private readonly steps: Array<() => void> = [];
  done = false;
  add(step: () => void): void {
    if (this.done) step();
    else this.steps.push(step);
  }
  run(): void {
    if (this.done) return;
    this.done = true;
    for (const step of this.steps.reverse()) step();
  }
}

/** A hub subscriber that takes nothing: it keeps the room's feed (and so its leaves) in view. */
const LEAVE_WATCH: RoomSubscriber = { deliver() {}, ready: () => Promise.resolve() };

/**
 * The three subscriptions of the API, independent of transport. Authorization happens before
 * anything is attached; following a room's events or presence makes the user online there until
 * the returned stop function runs.
 *
 * Leaving ends them: a leave is a MemberLeft event in the room's log, which this node's room hub
 * hands out in order like any event, whichever node served the leave. Each subscription is
 * registered under its room and user with the seq its access was checked at; a MemberLeft of that
 * user after that seq ends it, with FORBIDDEN for a private room (the user may no longer read it)
 * and plainly for a public one. A leave older than the check (a member who left and rejoined)
 * ends nothing.
 */
export class Subscriptions {
  private followers = 0;
  /** roomId → userId → open subscriptions. */
  private readonly following = new Map<string, Map<string, Set<Following>>>();

  constructor(
    private readonly deps: { hub: RoomHub; broker: Broker; presence: PresenceStore; access: RoomAccess; metrics: Metrics },
  ) {
    deps.hub.watch((roomId, event) => this.onRoomEvent(roomId, event));
  }

  /** Authorizes and starts delivery to `subscriber`; the returned function stops it. */
  async roomEvents(
    viewer: UserRef | null,
    roomId: string,
    afterSeq: number | null | undefined,
    connectionId: string,
    subscriber: LeavableSubscriber,
  ): Promise<() => void> {
    const grant = await this.deps.access.assertCanRead(viewer, roomId);
    if (afterSeq !== null && afterSeq !== undefined && (!Number.isInteger(afterSeq) || afterSeq < 0)) {
      throw badInput('afterSeq must be a whole number ≥ 0');
    }
    // An afterSeq older than what retention kept starts at the oldest kept seq; the room's
    // HistoryTrimmed event, which comes in order, tells the client why the seqs jump.
    if (afterSeq !== null && afterSeq !== undefined) afterSeq = Math.max(afterSeq, grant.oldestSeq - 1);
    const teardown = new Teardown();
    const following = this.follow(roomId, grant, subscriber, teardown);
    teardown.add(this.online(roomId, grant.user, connectionId));
    try {
      teardown.add(await this.deps.hub.attach(roomId, afterSeq ?? undefined, subscriber));
      this.counted(teardown);
      await this.recheck(viewer, roomId, grant, following);
    } catch (error) {
      teardown.run();
      throw error;
    }
    return () => teardown.run();
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
    const grant = await this.deps.access.assertCanRead(viewer, roomId);
    const sink = new IteratorSink<PresenceView>(100);
    const teardown = new Teardown();
    sink.onReturn = () => teardown.run();
    const following = this.follow(roomId, grant, sink, teardown);
    try {
      // Subscribe before taking the snapshot so no change falls between the two.
      const unsubscribe = await this.deps.broker.subscribe(presenceChannel(roomId), (view) => sink.push(view as PresenceView));
      teardown.add(() => void unsubscribe());
      // The room's feed on this node is where a leave shows up: keep it followed meanwhile.
      teardown.add(await this.deps.hub.attach(roomId, undefined, LEAVE_WATCH));
      teardown.add(this.online(roomId, grant.user, connectionId));
      this.counted(teardown);
      await this.recheck(viewer, roomId, grant, following);
      sink.push(await this.deps.presence.snapshot(roomId));
    } catch (error) {
      teardown.run();
      throw error;
    }
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

  private counted(teardown: Teardown): void {
    this.deps.metrics.subscriptions.inc();
    teardown.add(() => this.deps.metrics.subscriptions.dec());
  }

  /**
   * Registers a subscription to be ended when its user leaves the room after the check. The
   * registration comes before the feed is attached, so no leave the feed hands out is missed.
   */
  private follow(roomId: string, grant: ReadGrant, subscription: Endable, teardown: Teardown): Following {
    const following: Following = {
      checkedAt: grant.checkedAt,
      leave: () => {
        if (grant.private) subscription.fail(forbidden('you left this private room: join it again to follow it'));
        else void subscription.return();
        teardown.run();
      },
    };
    let users = this.following.get(roomId);
    if (!users) this.following.set(roomId, (users = new Map()));
    let mine = users.get(grant.user.id);
    if (!mine) users.set(grant.user.id, (mine = new Set()));
    mine.add(following);
    teardown.add(() => {
      mine.delete(following);
      if (mine.size === 0) users.delete(grant.user.id);
      if (users.size === 0) this.following.delete(roomId);
    });
    return following;
  }

  /**
   * A feed started for this subscription begins at the log's head, so a leave between the access
   * check and that start is in no feed: for a private room, check again now that the feed runs.
   * (A public room stays readable after a leave, so nothing can leak there.)
   */
  private async recheck(viewer: UserRef | null, roomId: string, grant: ReadGrant, following: Following): Promise<void> {
    if (!grant.private) return;
    following.checkedAt = Math.max(following.checkedAt, (await this.deps.access.assertCanRead(viewer, roomId)).checkedAt);
  }

  private onRoomEvent(roomId: string, event: RoomEvent): void {
    if (event.type !== 'MemberLeft') return;
    const mine = this.following.get(roomId)?.get(event.data.user.id);
    if (!mine) return;
    for (const following of [...mine]) if (event.seq > following.checkedAt) following.leave();
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
