import { DuplicateEventIdError, WrongExpectedRevisionError, type EventStore } from '../eventStore/eventStore.js';
import { roomStream, type RoomEvent, type RoomEventBody } from './events.js';
import { toRoomEvent } from './fromStored.js';
import { decide, evolve, initialRoomState, type RoomCommand, type RoomState } from './room.js';

export interface CommandOutcome {
  /** The events this command appended (empty for an idempotent no-op), with their seqs. */
  events: RoomEvent[];
  /** The room state right after this command (read-only for the caller). */
  state: RoomState;
}

interface Pending {
  /** Builds the command from the current state (e.g. after checking a password against it). */
  command: (state: RoomState) => RoomCommand | Promise<RoomCommand>;
  resolve: (outcome: CommandOutcome) => void;
  reject: (error: unknown) => void;
}

interface RoomSlot {
  state: RoomState;
  queue: Pending[];
  running: boolean;
}

const MAX_CONFLICT_RETRIES = 50;

export interface RoomRepositoryOptions {
  maxCachedRooms?: number;
  /**
   * The store keeps only each room stream's newest `keepLast` events (EventStoreDB `$maxCount`)
   * and drops older ones whole, RoomCreated and joins included. The repository then ends a batch
   * with a HistoryTrimmed carrying the room's snapshot whenever the newest one is half the window
   * old, so the stream always holds an event the room can be folded from.
   */
  keepLast?: number;
}

/**
 * Runs commands against rooms: load (from a cache, caught up from the stream), decide, append with
 * the state's revision as the expected revision.
 *
 * Commands for one room run one batch at a time in this process, and everything queued while a
 * batch was being written goes into the next batch as ONE append: one transaction, one fsync for
 * many sends (group commit). Another process writing the same room makes the append fail its
 * revision check; the batch is then re-decided on the caught-up state, so decisions are always
 * made on exactly the state they are appended after, and seqs stay gap-free across nodes.
 */
export class RoomRepository {
  private readonly rooms = new Map<string, RoomSlot>();

  private readonly maxCachedRooms: number;
  private readonly keepLast: number | undefined;

  constructor(
    private readonly store: EventStore,
    options: RoomRepositoryOptions = {},
  ) {
    this.maxCachedRooms = options.maxCachedRooms ?? 10_000;
    this.keepLast = options.keepLast;
  }

  execute(roomId: string, command: Pending['command']): Promise<CommandOutcome> {
    const slot = this.slot(roomId);
    return new Promise((resolve, reject) => {
      slot.queue.push({ command, resolve, reject });
      if (!slot.running) {
        // Start on the next turn of the event loop, not now: every command that arrives in the
        // same round of socket reads then joins this batch. Starting at once would run each
        // command alone (the append is synchronous), one fsync per send.
        slot.running = true;
        setImmediate(() => void this.drain(roomId, slot));
      }
    });
  }

  /** The room's state caught up with the log (for reads that must not lag, e.g. membership checks). */
  async load(roomId: string): Promise<RoomState> {
    const slot = this.slot(roomId);
    await this.catchUp(roomId, slot);
    return slot.state;
  }

  private slot(roomId: string): RoomSlot {
    let slot = this.rooms.get(roomId);
    if (!slot) {
      if (this.rooms.size >= this.maxCachedRooms) this.evictIdle();
      slot = { state: initialRoomState(), queue: [], running: false };
      this.rooms.set(roomId, slot);
    }
    return slot;
  }

  private evictIdle(): void {
    for (const [roomId, slot] of this.rooms) {
      if (!slot.running && slot.queue.length === 0) this.rooms.delete(roomId);
      if (this.rooms.size < this.maxCachedRooms * 0.9) return;
    }
  }

  private async catchUp(roomId: string, slot: RoomSlot): Promise<void> {
    let stored = await this.store.readStream(roomStream(roomId), { fromRevision: slot.state.revision + 1 });
    if (slot.state.revision > 0 && stored.length > 0 && stored[0]!.revision > slot.state.revision + 1) {
      // Retention dropped events this cache never saw; under $maxCount or $tb they may include
      // joins and leaves. Fold again from what is left: it holds a snapshot of the room.
      slot.state = initialRoomState();
      stored = await this.store.readStream(roomStream(roomId));
    }
    for (const event of stored) {
      // Retention leaves gaps in a stream (trimmed messages), so only "not seen yet" matters.
      if (event.revision <= slot.state.revision) continue;
      const roomEvent = toRoomEvent(event);
      if (roomEvent) evolve(slot.state, roomEvent, event.revision);
      else slot.state.revision = event.revision;
    }
  }

  private async drain(roomId: string, slot: RoomSlot): Promise<void> {
    try {
      while (slot.queue.length > 0) {
        const batch = slot.queue.splice(0, slot.queue.length);
        await this.runBatch(roomId, slot, batch);
      }
    } finally {
      slot.running = false;
    }
  }

  private async runBatch(roomId: string, slot: RoomSlot, batch: Pending[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.catchUp(roomId, slot);
        await this.decideAndAppend(roomId, slot, batch);
        return;
      } catch (error) {
        const conflict = error instanceof WrongExpectedRevisionError || error instanceof DuplicateEventIdError;
        // The batch was decided on a state that another writer has moved past (or that the batch
        // itself advanced before failing): forget the cached state and decide again from the log.
        slot.state = initialRoomState();
        if (!conflict || attempt >= MAX_CONFLICT_RETRIES) {
          for (const pending of batch) pending.reject(error);
          return;
        }
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
  }

  /**
   * Decides each command in order on the state as evolved by the ones before it, then appends all
   * their events at once. A command that is refused rejects alone; the rest of the batch goes on.
   */
  private async decideAndAppend(roomId: string, slot: RoomSlot, batch: Pending[]): Promise<void> {
    const expectedRevision = slot.state.revision;
    const decided: Array<{ pending: Pending; events: RoomEvent[]; refused?: unknown }> = [];
    const toAppend: Array<{ id: string; type: string; data: unknown }> = [];
    const now = Date.now();
    for (const pending of batch) {
      try {
        const decision = decide(slot.state, await pending.command(slot.state));
        const events = decision.map((body, i) => {
          const seq = expectedRevision + toAppend.length + i + 1;
          return { ...body, seq, position: 0, at: now } as RoomEvent;
        });
        for (const event of events) evolve(slot.state, event, event.seq);
        toAppend.push(...decision.map(({ id, type, data }) => ({ id, type, data })));
        decided.push({ pending, events });
      } catch (refused) {
        decided.push({ pending, events: [], refused });
      }
    }
    if (toAppend.length > 0 && this.keepLast !== undefined && slot.state.room) {
      const carryEvery = Math.max(1, Math.floor(this.keepLast / 2));
      if (slot.state.revision - slot.state.foldableFrom >= carryEvery) {
        // Appended last, at seq t, it stays in the window until seq t + keepLast; the next one is
        // due at t + keepLast/2, so a snapshot is always inside the window.
        const seq = expectedRevision + toAppend.length + 1;
        const [{ id, type, data }] = decide(slot.state, { type: 'TrimHistory', beforeSeq: seq - this.keepLast + 1, carrySnapshot: true }) as [RoomEventBody & { id: string }];
        const carrier = { id, type, data, seq, position: 0, at: now } as RoomEvent;
        evolve(slot.state, carrier, seq);
        toAppend.push({ id, type, data });
        // Rides with the batch's last accepted command, so it is published like its events.
        decided.findLast((entry) => entry.refused === undefined && entry.events.length > 0)!.events.push(carrier);
      }
    }
    if (toAppend.length > 0) {
      const result = await this.store.append(roomStream(roomId), toAppend, { expectedRevision });
      const byId = new Map(result.events.map((e) => [e.id, e]));
      for (const { events } of decided) {
        for (const event of events) {
          const stored = byId.get(event.id)!;
          event.position = stored.position;
          event.at = stored.createdAt;
        }
      }
    }
    for (const { pending, events, refused } of decided) {
      if (refused !== undefined) pending.reject(refused);
      else pending.resolve({ events, state: slot.state });
    }
  }
}
