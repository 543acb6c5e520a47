import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type Position,
  type ResolvedEvent,
  type StreamMetadata,
} from '@eventstore/db-client';
import {
  DuplicateEventIdError,
  WrongExpectedRevisionError,
  type AllSubscription,
  type EventStore,
  type ExpectedRevision,
  type StoredEvent,
} from './eventStore.js';
import type { KeepsStreamMetadata, StreamRetention } from './retentionCapabilities.js';

/** The part of EventStoreDBClient this adapter uses: the edge that unit tests fake. */
export type EsdbClient = Pick<EventStoreDBClient, 'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'getStreamMetadata' | 'setStreamMetadata' | 'dispose'
>;

export interface EsdbEventStoreOptions {
  /** `esdb://host:2113?tls=false` */
  connectionString?: string;
  /** Given instead of a connection string in tests. */
  client?: EsdbClient;
  /** Only these streams are ours (the filter of subscribeToAll, and of readAll). */
  streamPrefix?: string;
  /** After a subscription error, wait this long (doubling up to 10 s) and resubscribe. */
  resubscribeDelayMs?: number;
  onError?: (error: unknown) => void;
}

// Mapping between the port and EventStoreDB, kept as small pure functions (unit tested):
// - revisions: ESDB counts a stream's events from 0, the port (and a room's seq) from 1.
// - positions: the port's position is the event's prepare position in the ESDB log, a number
//   (safe up to 2^53 bytes of log). Resuming "after position p" asks ESDB for events after
//   {commit: p, prepare: p}; ESDB's start positions are exclusive, which is what the port means.

export const seqOfRevision = (revision: bigint): number => Number(revision) + 1;

export function expectedRevisionForEsdb(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'any') return ANY;
  if (expected === 0) return NO_STREAM;
  return BigInt(expected - 1);
}

export const positionOf = (position: Position | undefined): number => (position ? Number(position.prepare) : 0);
export const esdbPosition = (after: number): Position | typeof START =>
  after <= 0 ? START : { commit: BigInt(after), prepare: BigInt(after) };

/** A port error for an ESDB error where one applies; anything else is passed on as it is. */
export function mapEsdbError(error: unknown, stream: string, expected: ExpectedRevision): unknown {
  if (error instanceof WrongExpectedVersionError) {
    const actual = error.actualVersion;
    return new WrongExpectedRevisionError(stream, expected, typeof actual === 'bigint' ? seqOfRevision(actual) : 0);
  }
  return error;
}

/**
 * The stream metadata that applies `retention` on top of `current` (other settings, e.g. an ACL,
 * kept), or null when nothing would change. `$tb` is an ESDB revision (0-based): keeping revision
 * r and later (1-based) is `$tb = r - 1`. It only ever moves forwards.
 */
export function retentionMetadata(current: StreamMetadata, retention: StreamRetention): StreamMetadata | null {
  const next: StreamMetadata = { ...current };
  if (retention.truncateBefore !== undefined) {
    const tb = retention.truncateBefore - 1;
    const currentTb = typeof current.truncateBefore === 'number' ? current.truncateBefore : 0;
    if (tb > currentTb) next.truncateBefore = tb;
  }
  if (retention.maxCount === null) delete next.maxCount;
  else if (retention.maxCount !== undefined) next.maxCount = retention.maxCount;
  return next.truncateBefore === current.truncateBefore && next.maxCount === current.maxCount ? null : next;
}

export function storedFrom(resolved: ResolvedEvent | AllStreamResolvedEvent): StoredEvent | null {
  const event = resolved.event;
  if (!event || !event.isJson) return null;
  return {
    id: event.id,
    type: event.type,
    data: event.data,
    stream: event.streamId,
    revision: seqOfRevision(event.revision),
    position: positionOf(event.position),
    createdAt: importedAt(event.metadata) ?? event.created.getTime(),
  };
}

function importedAt(metadata: unknown): number | null {
  const value = (metadata as { createdAt?: unknown } | undefined)?.createdAt;
  return typeof value === 'number' ? value : null;
}

/**
 * The event store on EventStoreDB (production): one stream per room (`room-<id>`), appends with
 * expected revisions, deterministic event ids. ESDB ignores a re-append of the same event ids at
 * the same expected revision (its dedupe window is an undocumented cache); the adapter reports
 * that as DuplicateEventIdError, as the port says. Beyond the window, the room aggregate's own
 * check (the room decider: a known messageId appends nothing) is what keeps resends single.
 *
 * Positions of an append's events: ESDB returns only the last one's, so all events of one append
 * carry it in the result (reads and subscriptions carry each event's own).
 */
export function createEsdbEventStore(options: EsdbEventStoreOptions): EventStore & KeepsStreamMetadata {
  const client: EsdbClient = options.client ?? EventStoreDBClient.connectionString(options.connectionString ?? '');
  const prefix = options.streamPrefix ?? 'room-';
  const onError = options.onError ?? (() => {});
  const subscriptions = new Set<AllSubscription>();

  async function readStream(stream: string, from: bigint | typeof START | typeof END, direction: typeof FORWARDS | typeof BACKWARDS, maxCount?: number) {
    const events: StoredEvent[] = [];
    try {
      for await (const resolved of client.readStream(stream, { fromRevision: from, direction, ...(maxCount ? { maxCount } : {}) })) {
        const stored = storedFrom(resolved);
        if (stored) events.push(stored);
      }
    } catch (error) {
      // ESDB throws while iterating a missing stream; the port reads it as empty.
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  async function readAllAfter(after: number, limit: number, direction: typeof FORWARDS | typeof BACKWARDS = FORWARDS): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    const fromPosition = direction === BACKWARDS ? END : esdbPosition(after);
    // Read a little more than asked: system events and other streams are skipped client-side.
    for await (const resolved of client.readAll({ fromPosition, direction, maxCount: limit * 2 + 10 })) {
      const stored = storedFrom(resolved);
      if (!stored || !stored.stream.startsWith(prefix) || (direction === FORWARDS && stored.position <= after)) continue;
      events.push(stored);
      if (events.length >= limit) break;
    }
    return events;
  }

  return {
    async append(stream, events, { expectedRevision }) {
      if (events.length === 0) throw new Error(`append to ${stream}: no events given`);
      let result;
      try {
        result = await client.appendToStream(
          stream,
          events.map((event) =>
            jsonEvent({
              id: event.id,
              type: event.type,
              data: event.data as Record<string, unknown>,
              // ESDB sets its own `created`; an imported event's original time travels here.
              ...(event.createdAt !== undefined ? { metadata: { createdAt: event.createdAt } } : {}),
            }),
          ),
          { expectedRevision: expectedRevisionForEsdb(expectedRevision) },
        );
      } catch (error) {
        throw mapEsdbError(error, stream, expectedRevision);
      }
      const revision = seqOfRevision(result.nextExpectedRevision);
      // ESDB answered "appended" but the stream did not move by our events: it recognised the ids
      // and wrote nothing (idempotent append).
      if (typeof expectedRevision === 'number' && revision !== expectedRevision + events.length) {
        throw new DuplicateEventIdError(events[0]!.id);
      }
      const position = positionOf(result.position);
      const now = Date.now();
      const first = revision - events.length + 1;
      return {
        revision,
        position,
        events: events.map((event, i) => ({ ...event, stream, revision: first + i, position, createdAt: event.createdAt ?? now })),
      };
    },
    async readStream(stream, opts = {}) {
      const direction = opts.direction === 'backwards' ? BACKWARDS : FORWARDS;
      const from =
        opts.fromRevision !== undefined ? BigInt(Math.max(0, opts.fromRevision - 1)) : direction === BACKWARDS ? END : START;
      if (opts.limit === 0) return [];
      return readStream(stream, from, direction, opts.limit);
    },
    async streamRevision(stream) {
      const [last] = await readStream(stream, END, BACKWARDS, 1);
      return last?.revision ?? 0;
    },
    readAll(opts = {}) {
      return readAllAfter(opts.afterPosition ?? 0, opts.limit ?? 1_000);
    },
    async headPosition() {
      const [last] = await readAllAfter(0, 1, BACKWARDS);
      return last?.position ?? 0;
    },
    subscribeToAll({ afterPosition, onEvent, onError: report }) {
      const subscription = resilientSubscription({
        client,
        prefix,
        afterPosition,
        onEvent,
        delayMs: options.resubscribeDelayMs ?? 500,
        onError: (error) => {
          onError(error);
          report?.(error);
        },
      });
      subscriptions.add(subscription);
      return {
        async close() {
          subscriptions.delete(subscription);
          await subscription.close();
        },
      };
    },
    async setStreamRetention(stream, retention) {
      // Read-modify-write of the metadata stream, with its revision as the expectation, so two
      // nodes setting retention at once cannot undo each other's change.
      for (let attempt = 0; ; attempt++) {
        const { metadata = {}, metastreamRevision } = await client.getStreamMetadata(stream);
        const next = retentionMetadata(metadata, retention);
        if (!next) return;
        try {
          await client.setStreamMetadata(stream, next, { expectedRevision: metastreamRevision ?? NO_STREAM });
          return;
        } catch (error) {
          if (!(error instanceof WrongExpectedVersionError) || attempt >= 5) throw error;
        }
      }
    },
    async ping() {
      try {
        await readAllAfter(0, 1, BACKWARDS);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await Promise.all([...subscriptions].map((s) => s.close()));
      await client.dispose();
    },
  };
}

/**
 * subscribeToAll that survives errors: ESDB subscriptions do not resubscribe by themselves, so on
 * an error this one waits (backing off) and subscribes again from the last position it delivered,
 * never skipping and never repeating one. Only our room streams come through (server-side filter).
 */
export function resilientSubscription(options: {
  client: EsdbClient;
  prefix: string;
  afterPosition: number;
  onEvent: (event: StoredEvent) => void | Promise<void>;
  onError: (error: unknown) => void;
  delayMs: number;
}): AllSubscription {
  let checkpoint = options.afterPosition;
  let closed = false;
  let current: { unsubscribe(): Promise<void> } | null = null;
  const done = (async () => {
    let delay = options.delayMs;
    while (!closed) {
      try {
        const subscription = options.client.subscribeToAll({
          fromPosition: esdbPosition(checkpoint),
          filter: streamNameFilter({ prefixes: [options.prefix] }),
        });
        current = subscription;
        for await (const resolved of subscription) {
          if (closed) break;
          const stored = storedFrom(resolved);
          if (!stored || stored.position <= checkpoint) continue;
          await options.onEvent(stored);
          checkpoint = stored.position;
          delay = options.delayMs;
        }
        if (closed) break;
        throw new Error('subscription ended by the server');
      } catch (error) {
        if (closed) break;
        options.onError(error);
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    }
  })();
  return {
    async close() {
      closed = true;
      await current?.unsubscribe().catch(() => {});
      await done;
    },
  };
}
