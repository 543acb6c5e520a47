import {
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
} from '@eventstore/db-client';
import {
  DuplicateEventIdError,
  type AllSubscription,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StoredEvent,
  type SubscribeToAllOptions,
} from './eventStore.js';
import { esdbPosition, expectedRevisionForEsdb, mapEsdbError, positionOf, retentionMetadata, seqOfRevision, storedFrom } from './esdbMapping.js';
import type { KeepsStreamMetadata, StreamRetention } from './retentionCapabilities.js';

// The mapping is unit tested through this module, which is where the adapter's users look for it.
export { esdbPosition, expectedRevisionForEsdb, mapEsdbError, positionOf, retentionMetadata, seqOfRevision, storedFrom } from './esdbMapping.js';

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

type Direction = typeof FORWARDS | typeof BACKWARDS;

/** What every operation of one store works on. */
interface EsdbStore {
  client: EsdbClient;
  prefix: string;
  onError: (error: unknown) => void;
  resubscribeDelayMs: number;
  subscriptions: Set<AllSubscription>;
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
  const store: EsdbStore = {
    client: options.client ?? EventStoreDBClient.connectionString(options.connectionString ?? ''),
    prefix: options.streamPrefix ?? 'room-',
    onError: options.onError ?? (() => {}),
    resubscribeDelayMs: options.resubscribeDelayMs ?? 500,
    subscriptions: new Set(),
  };
  return {
    append: (stream, events, appendOptions) => append(store, stream, events, appendOptions),
    readStream: (stream, readOptions) => readStream(store, stream, readOptions),
    async streamRevision(stream) {
      const [last] = await readStreamEvents(store, stream, END, BACKWARDS, 1);
      return last?.revision ?? 0;
    },
    readAll: (readOptions) => readAll(store, readOptions),
    async headPosition() {
      const [last] = await readAllAfter(store, 0, 1, BACKWARDS);
      return last?.position ?? 0;
    },
    subscribeToAll: (subscribeOptions) => subscribeToAll(store, subscribeOptions),
    setStreamRetention: (stream, retention) => setStreamRetention(store, stream, retention),
    ping: () => ping(store),
    close: () => close(store),
  };
}

async function append(
  store: EsdbStore,
  stream: string,
  events: NewEvent[],
  { expectedRevision }: { expectedRevision: ExpectedRevision },
): Promise<AppendResult> {
  if (events.length === 0) throw new Error(`append to ${stream}: no events given`);
  let result;
  try {
    result = await store.client.appendToStream(
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
}

/** The port's readStream: seqs (from 1) become ESDB revisions (from 0). */
async function readStream(store: EsdbStore, stream: string, opts: ReadStreamOptions = {}): Promise<StoredEvent[]> {
  const direction = opts.direction === 'backwards' ? BACKWARDS : FORWARDS;
  const from =
    opts.fromRevision !== undefined ? BigInt(Math.max(0, opts.fromRevision - 1)) : direction === BACKWARDS ? END : START;
  if (opts.limit === 0) return [];
  return readStreamEvents(store, stream, from, direction, opts.limit);
}

async function readStreamEvents(store: EsdbStore, stream: string, from: bigint | typeof START | typeof END, direction: Direction, maxCount?: number) {
  const events: StoredEvent[] = [];
  try {
    for await (const resolved of store.client.readStream(stream, { fromRevision: from, direction, ...(maxCount ? { maxCount } : {}) })) {
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

function readAll(store: EsdbStore, opts: ReadAllOptions = {}): Promise<StoredEvent[]> {
  return readAllAfter(store, opts.afterPosition ?? 0, opts.limit ?? 1_000);
}

async function readAllAfter(store: EsdbStore, after: number, limit: number, direction: Direction = FORWARDS): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  const fromPosition = direction === BACKWARDS ? END : esdbPosition(after);
  // Read a little more than asked: system events and other streams are skipped client-side.
  for await (const resolved of store.client.readAll({ fromPosition, direction, maxCount: limit * 2 + 10 })) {
    const stored = storedFrom(resolved);
    if (!stored || !stored.stream.startsWith(store.prefix) || (direction === FORWARDS && stored.position <= after)) continue;
    events.push(stored);
    if (events.length >= limit) break;
  }
  return events;
}

function subscribeToAll(store: EsdbStore, { afterPosition, onEvent, onError: report }: SubscribeToAllOptions): AllSubscription {
  const subscription = resilientSubscription({
    client: store.client,
    prefix: store.prefix,
    afterPosition,
    onEvent,
    delayMs: store.resubscribeDelayMs,
    onError: (error) => {
      store.onError(error);
      report?.(error);
    },
  });
  store.subscriptions.add(subscription);
  return {
    async close() {
      store.subscriptions.delete(subscription);
      await subscription.close();
    },
  };
}

async function setStreamRetention(store: EsdbStore, stream: string, retention: StreamRetention): Promise<void> {
  // Read-modify-write of the metadata stream, with its revision as the expectation, so two
  // nodes setting retention at once cannot undo each other's change.
  for (let attempt = 0; ; attempt++) {
    const { metadata = {}, metastreamRevision } = await store.client.getStreamMetadata(stream);
    const next = retentionMetadata(metadata, retention);
    if (!next) return;
    try {
      await store.client.setStreamMetadata(stream, next, { expectedRevision: metastreamRevision ?? NO_STREAM });
      return;
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError) || attempt >= 5) throw error;
    }
  }
}

async function ping(store: EsdbStore): Promise<boolean> {
  try {
    await readAllAfter(store, 0, 1, BACKWARDS);
    return true;
  } catch {
    return false;
  }
}

async function close(store: EsdbStore): Promise<void> {
  await Promise.all([...store.subscriptions].map((s) => s.close()));
  await store.client.dispose();
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
