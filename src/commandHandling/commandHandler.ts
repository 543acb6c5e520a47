import type { Decider } from '../domain/decider.js';
import {
  DuplicateEventIdError,
  WrongExpectedRevisionError,
  type EventStore,
  type NewEvent,
  type StoredEvent,
} from '../eventStore/eventStore.js';

/** A decided event as its stream holds it: `seq` is its revision there, `position` its place in the log. */
export type Recorded<Event> = Event & { id: string; seq: number; position: number; at: number };

export interface CommandOutcome<State, Event> {
  /** The events this command appended (empty for an idempotent no-op), with their seqs. */
  events: Array<Recorded<Event>>;
  /** The state right after this command (read-only for the caller). */
  state: State;
}

/** Builds the command from the current state (e.g. after checking a password against it). */
export type BuildCommand<State, Command> = (state: State) => Command | Promise<Command>;

export interface CommandHandlerOptions<State, Command, Event> {
  decider: Decider<State, Command, Event>;
  store: Pick<EventStore, 'append' | 'readStream'>;
  /** The stream that holds one instance's events (a room's is `room-<id>`). */
  streamName: (id: string) => string;
  /** A stored event as the decider's event, or null for one it does not fold (its revision still counts). */
  fromStored: (stored: StoredEvent) => Event | null;
  /** Instances whose state stays cached between commands; idle ones are dropped past it. */
  maxCached?: number;
  /**
   * A command decided and appended at the end of every batch that appended something, after the
   * batch's own events (null: none this time). `nextRevision` is the revision it would get. This
   * is how a retention policy keeps a snapshot inside what the store keeps (src/retention/).
   */
  afterBatch?: (state: State, nextRevision: number) => Command | null;
}

interface Pending<State, Command, Event> {
  build: BuildCommand<State, Command>;
  resolve: (outcome: CommandOutcome<State, Event>) => void;
  reject: (error: unknown) => void;
}

interface Slot<State, Command, Event> {
  state: State;
  /** Revision of the last stored event folded in (or skipped); 0 for an empty stream. */
  revision: number;
  queue: Array<Pending<State, Command, Event>>;
  running: boolean;
  /** Loads waiting for the state caught up with the log; served between batches (see `load`). */
  loads: Array<{ resolve: (state: State) => void; reject: (error: unknown) => void }>;
}

const MAX_CONFLICT_RETRIES = 50;

/**
 * Runs commands against one decider's instances (a room, say): load (from a cache, caught up from
 * the stream), decide, append with the stream's revision as the expected revision.
 *
 * Commands for one instance run one batch at a time in this process, and everything queued while
 * a batch was being written goes into the next batch as ONE append: one transaction, one fsync for
 * many commands (group commit). Another process writing the same stream makes the append fail its
 * revision check; the batch is then re-decided on the caught-up state, so decisions are always
 * made on exactly the state they are appended after, and revisions stay gap-free across nodes.
 */
export class CommandHandler<State, Command, Event extends { type: string; data: unknown }> {
  private readonly slots = new Map<string, Slot<State, Command, Event>>();
  private readonly decider: Decider<State, Command, Event>;
  private readonly store: CommandHandlerOptions<State, Command, Event>['store'];
  private readonly maxCached: number;

  constructor(private readonly options: CommandHandlerOptions<State, Command, Event>) {
    this.decider = options.decider;
    this.store = options.store;
    this.maxCached = options.maxCached ?? 10_000;
  }

  execute(id: string, build: BuildCommand<State, Command>): Promise<CommandOutcome<State, Event>> {
    const slot = this.slot(id);
    return new Promise((resolve, reject) => {
      slot.queue.push({ build, resolve, reject });
      this.start(id, slot);
    });
  }

  /**
   * The state caught up with the log (for reads that must not lag, e.g. membership checks), as of
   * what the log held when it was asked for or later. Read it at once: it is the cache's own
   * object, which the next batch changes.
   *
   * Loads are served by the same loop as the batches, between them: a batch folds its events into
   * the cached state before its append is acknowledged, and may lose the race to another node's
   * write, so a load in the middle of a batch would read the log after events that are not in it
   * (and miss the other node's). Every load waiting then shares one read of the log, which starts
   * after all of them were asked for: a crowd subscribing to a room checked its access with a read
   * each.
   */
  load(id: string): Promise<State> {
    const slot = this.slot(id);
    return new Promise((resolve, reject) => {
      slot.loads.push({ resolve, reject });
      this.start(id, slot);
    });
  }

  /**
   * Starts the slot's loop on the next turn of the event loop, not now: every command that arrives
   * in the same round of socket reads then joins one batch (starting at once would run each command
   * alone, the append being synchronous: one fsync per command), and every load one read.
   */
  private start(id: string, slot: Slot<State, Command, Event>): void {
    if (slot.running) return;
    slot.running = true;
    setImmediate(() => void this.drain(id, slot));
  }

  private slot(id: string): Slot<State, Command, Event> {
    let slot = this.slots.get(id);
    if (!slot) {
      if (this.slots.size >= this.maxCached) this.evictIdle();
      slot = { state: this.decider.initialState(), revision: 0, queue: [], running: false, loads: [] };
      this.slots.set(id, slot);
    }
    return slot;
  }

  private evictIdle(): void {
    for (const [id, slot] of this.slots) {
      if (!slot.running && slot.queue.length === 0) this.slots.delete(id);
      if (this.slots.size < this.maxCached * 0.9) return;
    }
  }

  private forget(slot: Slot<State, Command, Event>): void {
    slot.state = this.decider.initialState();
    slot.revision = 0;
  }

  /** Only ever from the slot's loop (drain): nothing else changes the slot while it reads. */
  private async catchUp(id: string, slot: Slot<State, Command, Event>): Promise<void> {
    const stream = this.options.streamName(id);
    let stored = await this.store.readStream(stream, { fromRevision: slot.revision + 1 });
    if (slot.revision > 0 && stored.length > 0 && stored[0]!.revision > slot.revision + 1) {
      // Retention dropped events this cache never saw; under $maxCount or $tb they may include
      // structural ones (a room's joins and leaves). Fold again from what is left: retention
      // keeps a snapshot in it (see afterBatch).
      this.forget(slot);
      stored = await this.store.readStream(stream);
    }
    for (const event of stored) {
      // Retention leaves gaps in a stream (trimmed messages), so only "not seen yet" matters.
      if (event.revision <= slot.revision) continue;
      const domainEvent = this.options.fromStored(event);
      if (domainEvent) slot.state = this.decider.evolve(slot.state, domainEvent, event.revision);
      slot.revision = event.revision;
    }
  }

  private async drain(id: string, slot: Slot<State, Command, Event>): Promise<void> {
    try {
      while (slot.queue.length > 0 || slot.loads.length > 0) {
        // Loads first: they were asked for before the commands now waiting were decided.
        if (slot.loads.length > 0) await this.serveLoads(id, slot);
        if (slot.queue.length > 0) await this.runBatch(id, slot, slot.queue.splice(0, slot.queue.length));
      }
    } finally {
      slot.running = false;
    }
  }

  /** One read of the log for every load waiting; the next batch waits until they have read the state. */
  private async serveLoads(id: string, slot: Slot<State, Command, Event>): Promise<void> {
    const loads = slot.loads.splice(0, slot.loads.length);
    try {
      await this.catchUp(id, slot);
      for (const load of loads) load.resolve(slot.state);
    } catch (error) {
      for (const load of loads) load.reject(error);
    }
    // Their callers read the state in the microtasks that follow; a batch starting before the
    // next turn could change it under them.
    await new Promise((resolve) => setImmediate(resolve));
  }

  private async runBatch(id: string, slot: Slot<State, Command, Event>, batch: Array<Pending<State, Command, Event>>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.catchUp(id, slot);
        await this.decideAndAppend(id, slot, batch);
        return;
      } catch (error) {
        const conflict = error instanceof WrongExpectedRevisionError || error instanceof DuplicateEventIdError;
        // The batch was decided on a state that another writer has moved past (or that the batch
        // itself advanced before failing): forget the cached state and decide again from the log.
        this.forget(slot);
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
  private async decideAndAppend(id: string, slot: Slot<State, Command, Event>, batch: Array<Pending<State, Command, Event>>): Promise<void> {
    const expectedRevision = slot.revision;
    const decided: Array<{ pending: Pending<State, Command, Event>; events: Array<Recorded<Event>>; refused?: unknown }> = [];
    const toAppend: NewEvent[] = [];
    const now = Date.now();
    // Decides on the current state and folds the result in at once, so the next command of the
    // batch sees it; position and time are filled in from the store once the append is done.
    const decideAndFold = (command: Command): Array<Recorded<Event>> => {
      const decision = this.decider.decide(slot.state, command);
      const events = decision.map((event, i) => ({ ...event, seq: expectedRevision + toAppend.length + i + 1, position: 0, at: now }) as Recorded<Event>);
      for (const event of events) {
        slot.state = this.decider.evolve(slot.state, event, event.seq);
        slot.revision = event.seq;
      }
      toAppend.push(...decision.map(({ id, type, data }) => ({ id, type, data })));
      return events;
    };
    for (const pending of batch) {
      try {
        decided.push({ pending, events: decideAndFold(await pending.build(slot.state)) });
      } catch (refused) {
        decided.push({ pending, events: [], refused });
      }
    }
    const extra = toAppend.length > 0 ? this.options.afterBatch?.(slot.state, expectedRevision + toAppend.length + 1) : null;
    if (extra) {
      // Rides with the batch's last accepted command, so it is published like its events.
      const carrier = decided.findLast((entry) => entry.refused === undefined && entry.events.length > 0)!;
      carrier.events.push(...decideAndFold(extra));
    }
    if (toAppend.length > 0) {
      const result = await this.store.append(this.options.streamName(id), toAppend, { expectedRevision });
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
