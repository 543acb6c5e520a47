import type { Broker, Unsubscribe } from '../broker/broker.js';
import { roomChannel } from '../broker/broker.js';
import type { EventStore } from '../eventStore/eventStore.js';
import { roomStream, type RoomEvent } from '../domain/events.js';
import { toRoomEvent } from '../domain/fromStored.js';

/** Where a subscription's events go. */
export interface RoomSubscriber {
  /** Called with the room's events in seq order, each exactly once, starting after `afterSeq`. */
  deliver(event: RoomEvent): void;
  /** Resolves when the subscriber can take more; used to pace catch-up from the log. */
  ready(): Promise<void>;
}

/** Sees every event this node's room feeds hand out: once each, in seq order per room. */
export type RoomEventWatcher = (roomId: string, event: RoomEvent) => void;

export interface RoomHubOptions {
  store: EventStore;
  broker: Broker;
  /** How often each followed room's head seq is compared with what was delivered. */
  headCheckIntervalMs?: number;
  /** How long a room feed waits for the broker subscription before relying on the log alone. */
  brokerWaitMs?: number;
  /** Events per log read during catch-up and gap repair. */
  pageSize?: number;
  onError?: (error: unknown, roomId: string) => void;
  /** Observability: events recovered from the log that the broker did not bring. */
  onRepaired?: (roomId: string, count: number) => void;
}

interface Attached {
  subscriber: RoomSubscriber;
  /** Seq of the last event handed to this subscriber. */
  last: number;
  detached: boolean;
}

/**
 * One per node: follows each room that has local subscribers, and turns the broker's at-most-once
 * live messages plus the log into an exactly-once, in-order, gap-free event sequence per room.
 *
 * How each guarantee is kept:
 * - The room's feed subscribes to the broker BEFORE it reads the head seq, so nothing published in
 *   between is missed (live first, then read).
 * - `cursor` is the last seq handed out. A live event at cursor+1 goes out at once; one further
 *   ahead waits while the gap is read from the log; one at or below the cursor is a duplicate and
 *   is dropped. The head seq is also polled (and checked after a broker reconnect), so a publish
 *   that never arrived is repaired from the log.
 * - A subscriber with `afterSeq` reads the log from afterSeq+1 until it reaches the cursor, then
 *   joins the live set in the same tick it checked (no await in between: no seam to fall through).
 *   Each subscriber also remembers its own last seq and never gets anything at or below it.
 */
export class RoomHub {
  private readonly feeds = new Map<string, RoomFeed>();
  private readonly watchers = new Set<RoomEventWatcher>();
  private readonly reconnectListener = () => {
    for (const feed of this.feeds.values()) feed.checkHead();
  };

  constructor(private readonly options: RoomHubOptions) {
    options.broker.onReconnect(this.reconnectListener);
  }

  /** Starts delivery; resolves with `detach` once the subscriber is catching up or live. */
  async attach(roomId: string, afterSeq: number | undefined, subscriber: RoomSubscriber): Promise<() => void> {
    let feed = this.feeds.get(roomId);
    if (!feed) {
      feed = new RoomFeed(roomId, this.options, () => this.feeds.delete(roomId), (event) => {
        for (const watcher of this.watchers) watcher(roomId, event);
      });
      this.feeds.set(roomId, feed);
    }
    return feed.attach(afterSeq, subscriber);
  }

  /**
   * Calls `watcher` with every event handed out from now on, in each followed room (e.g. a leave,
   * to end the leaver's subscriptions on this node). Returns the function that stops it.
   */
  watch(watcher: RoomEventWatcher): () => void {
    this.watchers.add(watcher);
    return () => void this.watchers.delete(watcher);
  }

  /** Rooms followed on this node (for metrics). */
  get roomCount(): number {
    return this.feeds.size;
  }

  async close(): Promise<void> {
    await Promise.all([...this.feeds.values()].map((feed) => feed.close()));
  }
}

class RoomFeed {
  private readonly live = new Set<Attached>();
  private readonly pending = new Map<number, RoomEvent>();
  private cursor = 0;
  /** A head seq seen in the log that has not been delivered yet. */
  private knownHead = 0;
  private pumping = false;
  /** Set once the head is known; before that, live events only wait in `pending`. */
  private running = false;
  private refs = 0;
  private closed = false;
  private readonly started: Promise<void>;
  private unsubscribe: Unsubscribe | null = null;
  private headTimer: NodeJS.Timeout | null = null;
  private readonly stream: string;

  constructor(
    private readonly roomId: string,
    private readonly options: RoomHubOptions,
    private readonly onClosed: () => void,
    private readonly onDispatched: (event: RoomEvent) => void,
  ) {
    this.stream = roomStream(roomId);
    this.started = this.start();
    this.started.catch(() => {});
  }

  private async start(): Promise<void> {
    const subscribed = this.options.broker.subscribe(roomChannel(this.roomId), (message) => this.onLive(message as RoomEvent));
    subscribed.then(
      (unsubscribe) => {
        if (this.closed) void unsubscribe();
        else this.unsubscribe = unsubscribe;
      },
      (error) => this.options.onError?.(error, this.roomId),
    );
    // Live first, then read the head. If the broker is slow or away, go on without it after a
    // while: the head check then keeps the room complete and in order from the log, only slower.
    await Promise.race([subscribed.catch(() => {}), sleep(this.options.brokerWaitMs ?? 2_000)]);
    this.cursor = await this.options.store.streamRevision(this.stream);
    if (this.closed) return;
    this.running = true;
    this.headTimer = setInterval(() => this.checkHead(), this.options.headCheckIntervalMs ?? 1_000);
    this.headTimer.unref();
    this.pump();
  }

  async attach(afterSeq: number | undefined, subscriber: RoomSubscriber): Promise<() => void> {
    this.refs++;
    const attached: Attached = { subscriber, last: 0, detached: false };
    const detach = () => {
      if (attached.detached) return;
      attached.detached = true;
      this.live.delete(attached);
      if (--this.refs === 0) void this.close();
    };
    try {
      await this.started;
      attached.last = afterSeq ?? this.cursor;
      void this.catchUp(attached).catch((error) => {
        this.options.onError?.(error, this.roomId);
        detach();
      });
    } catch (error) {
      detach();
      throw error;
    }
    return detach;
  }

  private async catchUp(attached: Attached): Promise<void> {
    const pageSize = this.options.pageSize ?? 500;
    while (!attached.detached) {
      if (attached.last >= this.cursor) {
        this.live.add(attached);
        return;
      }
      const page = await this.options.store.readStream(this.stream, { fromRevision: attached.last + 1, limit: pageSize });
      if (attached.detached) return;
      for (const stored of page) {
        if (stored.revision <= attached.last) continue;
        attached.last = stored.revision;
        const event = toRoomEvent(stored);
        if (event) attached.subscriber.deliver(event);
      }
      // Nothing left to read below the cursor (e.g. the log was trimmed): join live as is.
      if (page.length === 0) attached.last = Math.max(attached.last, this.cursor);
      await attached.subscriber.ready();
    }
  }

  private onLive(event: RoomEvent): void {
    if (this.closed || event.seq <= this.cursor) return;
    this.pending.set(event.seq, event);
    if (!this.running) return;
    // Handing out what is contiguous is always safe, even while a gap read is in flight: the
    // cursor moves synchronously and the read's results at or below it are dropped.
    this.dispatchContiguous();
    if (this.pending.size > 0) this.pump();
  }

  checkHead(): void {
    this.options.store.streamRevision(this.stream).then(
      (head) => {
        if (head > this.cursor) {
          this.knownHead = Math.max(this.knownHead, head);
          this.pump();
        }
      },
      (error) => this.options.onError?.(error, this.roomId),
    );
  }

  /** Reads gaps from the log until everything known is handed out. One reader at a time. */
  private pump(): void {
    if (this.pumping || !this.running) return;
    this.pumping = true;
    this.drain().then(
      (stalled) => {
        this.pumping = false;
        // Something may have arrived between drain's last look and now; the log had what we
        // asked for (not stalled), so look again rather than wait for the next head check.
        if (!stalled && (this.pending.size > 0 || this.knownHead > this.cursor)) this.pump();
      },
      (error) => {
        this.pumping = false;
        this.options.onError?.(error, this.roomId);
      },
    );
  }

  /** Resolves true when it stopped because the log did not have the events yet. */
  private async drain(): Promise<boolean> {
    for (;;) {
      this.dispatchContiguous();
      let target = this.knownHead;
      for (const seq of this.pending.keys()) target = Math.max(target, seq - 1);
      if (this.closed || target <= this.cursor) return false;
      const limit = Math.min(target - this.cursor, this.options.pageSize ?? 500);
      const page = await this.options.store.readStream(this.stream, { fromRevision: this.cursor + 1, limit });
      // The log answers from the first event it still has: what lies before that was dropped by
      // retention (a store cutting stream prefixes, with a burst larger than its window) and will
      // never come. A replica that lags would not have the later events either.
      // (Live events already here in that range were delivered by the broker: they still go out.)
      if (page.length > 0 && page[0]!.revision > this.cursor + 1) {
        let next = page[0]!.revision;
        for (const seq of this.pending.keys()) if (seq > this.cursor) next = Math.min(next, seq);
        this.cursor = next - 1;
      }
      let repaired = 0;
      for (const stored of page) {
        const event = toRoomEvent(stored);
        if (event && event.seq > this.cursor && !this.pending.has(event.seq)) {
          this.pending.set(event.seq, event);
          repaired++;
        }
      }
      if (repaired > 0) this.options.onRepaired?.(this.roomId, repaired);
      // The log does not have it yet (a reader on a lagging replica): the head check retries later.
      if (page.length === 0) return true;
    }
  }

  private dispatchContiguous(): void {
    for (let event = this.pending.get(this.cursor + 1); event; event = this.pending.get(this.cursor + 1)) {
      this.pending.delete(event.seq);
      this.cursor = event.seq;
      for (const attached of this.live) {
        if (event.seq > attached.last) {
          attached.last = event.seq;
          try {
            attached.subscriber.deliver(event);
          } catch (error) {
            // One broken subscriber must not keep the event from the others.
            this.options.onError?.(error, this.roomId);
          }
        }
      }
      try {
        this.onDispatched(event);
      } catch (error) {
        this.options.onError?.(error, this.roomId);
      }
    }
    for (const seq of this.pending.keys()) if (seq <= this.cursor) this.pending.delete(seq);
    if (this.knownHead <= this.cursor) this.knownHead = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClosed();
    if (this.headTimer) clearInterval(this.headTimer);
    await this.started.catch(() => {});
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    await unsubscribe?.();
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
