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
  /** Bumped by every reset of the cached state, so a read that was in flight across one is not folded onto it. */
  generation: number;
  /** The catch-up that loads asked for in this turn of the event loop; it starts in the next. */
  nextLoad: Promise<void> | null;
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
      if (!slot.running) {
        // Start on the next turn of the event loop, not now: every command that arrives in the
        // same round of socket reads then joins this batch. Starting at once would run each
        // command alone (the append is synchronous), one fsync per command.
        slot.running = true;
        setImmediate(() => void this.drain(id, slot));
      }
    });
  }

  /**
   * The state caught up with the log (for reads that must not lag, e.g. membership checks).
   *
   * The loads of one instance asked for in one turn of the event loop share one read of the log,
   * which starts in the next turn: a crowd subscribing to a room checked its access with a read
   * each. Sharing keeps the guarantee: the read starts after every load that shares it was asked
   * for, so it sees whatever was acknowledged before any of them; a load asked for once the read
   * has started waits for the next one.
   */
  async load(id: string): Promise<State> {
    const slot = this.slot(id);
    slot.nextLoad ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        slot.nextLoad = null;
        this.catchUp(id, slot).then(resolve, reject);
      });
    });
    await slot.nextLoad;
    return slot.state;
  }

  private slot(id: string): Slot<State, Command, Event> {
    let slot = this.slots.get(id);
    if (!slot) {
      if (this.slots.size >= this.maxCached) this.evictIdle();
      slot = { state: this.decider.initialState(), revision: 0, queue: [], running: false, generation: 0, nextLoad: null };
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
    slot.generation++;
  }

  private async catchUp(id: string, slot: Slot<State, Command, Event>): Promise<void> {
    const stream = this.options.streamName(id);
    // A load runs beside the batches: a conflict may reset the cached state while this read is
    // in flight, and what it read (from the old revision on) must then not be folded onto the
    // empty state; read again from where the reset left it.
    let stored: StoredEvent[];
    for (;;) {
      const generation = slot.generation;
      stored = await this.store.readStream(stream, { fromRevision: slot.revision + 1 });
      if (slot.generation !== generation) continue;
      if (slot.revision > 0 && stored.length > 0 && stored[0]!.revision > slot.revision + 1) {
        // Retention dropped events this cache never saw; under $maxCount or $tb they may include
        // structural ones (a room's joins and leaves). Fold again from what is left: retention
        // keeps a snapshot in it (see afterBatch).
        this.forget(slot);
        const reset = slot.generation;
        stored = await this.store.readStream(stream);
        if (slot.generation !== reset) continue;
      }
      break;
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
      while (slot.queue.length > 0) {
        const batch = slot.queue.splice(0, slot.queue.length);
        await this.runBatch(id, slot, batch);
      }
    } finally {
      slot.running = false;
    }
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
