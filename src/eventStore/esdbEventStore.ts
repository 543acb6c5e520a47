import { BACKWARDS, END, EventStoreDBClient, FORWARDS, NO_STREAM, START, WrongExpectedVersionError, jsonEvent, type AppendResult as EsdbAppendResult } from '@eventstore/db-client';
import {
  WrongExpectedRevisionError,
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
import {
  expectedRevisionForEsdb,
  mapEsdbError,
  metadataFromRaw,
  partsWithin,
  positionOf,
  proposedSize,
  retentionMetadata,
  seqOfRevision,
  unavailableFromEsdb,
} from './esdbMapping.js';
import { drain, lastRawEvent, newestPosition, readAllAfter, readStreamEvents } from './esdbReads.js';
import { resilientSubscription } from './esdbSubscription.js';
import type { KeepsStreamMetadata, StreamRetention } from './retentionCapabilities.js';

// The mapping is unit tested through this module, which is where the adapter's users look for it.
export { esdbPosition, expectedRevisionForEsdb, mapEsdbError, positionOf, retentionMetadata, seqOfRevision, storedFrom } from './esdbMapping.js';
export { resilientSubscription } from './esdbSubscription.js';

/** The part of EventStoreDBClient this adapter uses: the edge that tests fake (test/support/fakeEsdbClient.ts). */
export type EsdbClient = Pick<EventStoreDBClient, 'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'setStreamMetadata' | 'dispose'>;

/** EventStoreDB's default MaxAppendSize: an append over it is refused whole. */
export const ESDB_MAX_APPEND_BYTES = 1_048_576;

export interface EsdbEventStoreOptions {
  /** `esdb://host:2113?tls=false` */
  connectionString?: string;
  /** Given instead of a connection string in tests. */
  client?: EsdbClient;
  /** Only these streams are ours (the filter of subscribeToAll, and of readAll). */
  streamPrefix?: string;
  /** After a subscription's transport error, wait this long (doubling up to 10 s) and resubscribe. */
  resubscribeDelayMs?: number;
  /** The server's MaxAppendSize if it is not the default; appends are cut into parts within it. */
  maxAppendBytes?: number;
  onError?: (error: unknown) => void;
}

/** What every operation of one store works on. */
interface EsdbStore {
  client: EsdbClient;
  ours: (stream: string) => boolean;
  prefix: string;
  onError: (error: unknown) => void;
  resubscribeDelayMs: number;
  maxAppendBytes: number;
  subscriptions: Set<AllSubscription>;
  closed: boolean;
  /** Whether any call was made: an unused client has no channel to close (and making one may mean a gossip discovery). */
  used: boolean;
}

/**
 * The event store on EventStoreDB (production): one stream per room (`room-<id>`), appends with
 * expected revisions, deterministic event ids. What it guarantees about ids is ESDB's (see the
 * port): a repeated append is answered with the original events, nothing else is checked; the
 * room decider is what keeps a resend single.
 */
export function createEsdbEventStore(options: EsdbEventStoreOptions): EventStore & KeepsStreamMetadata {
  const prefix = options.streamPrefix ?? 'room-';
  const store: EsdbStore = {
    client: options.client ?? EventStoreDBClient.connectionString(options.connectionString ?? ''),
    prefix,
    ours: (stream) => stream.startsWith(prefix),
    onError: options.onError ?? (() => {}),
    resubscribeDelayMs: options.resubscribeDelayMs ?? 500,
    maxAppendBytes: options.maxAppendBytes ?? ESDB_MAX_APPEND_BYTES,
    subscriptions: new Set(),
    closed: false,
    used: false,
  };
  const using =
    <A extends unknown[], R>(operation: (...args: A) => R) =>
    (...args: A): R => {
      store.used = true;
      return operation(...args);
    };
  /** A call to the server, whose "no answer" is the port's EventStoreUnavailableError. */
  const calling = <A extends unknown[], R>(operation: (...args: A) => Promise<R>) => {
    const call = using(operation);
    return (...args: A): Promise<R> =>
      call(...args).catch((error: unknown) => {
        throw unavailableFromEsdb(error);
      });
  };
  return {
    append: calling((stream, events, appendOptions) => append(store, stream, events, appendOptions)),
    readStream: calling((stream, readOptions) => readStream(store, stream, readOptions)),
    streamRevision: calling((stream) => streamRevision(store, stream)),
    readAll: calling(({ afterPosition = 0, limit = Infinity }: ReadAllOptions = {}) => readAllAfter(store.client, store.ours, afterPosition, limit)),
    headPosition: calling(() => newestPosition(store.client, store.ours)),
    subscribeToAll: using((subscribeOptions) => subscribeToAll(store, subscribeOptions)),
    setStreamRetention: calling((stream, retention) => setStreamRetention(store, stream, retention)),
    streamRetention: calling((stream) => streamRetention(store, stream)),
    ping: using(() => ping(store)),
    close: () => close(store),
  };
}

async function streamRevision(store: EsdbStore, stream: string): Promise<number> {
  const [last] = await readStreamEvents(store.client, stream, END, BACKWARDS, 1);
  return last?.revision ?? 0;
}

/**
 * Appends in parts within ESDB's maximum append size (one part almost always), each expecting the
 * revision the one before left; then reads the appended events back, so the result carries what
 * reads will carry: each event's own position and the server's time (ESDB's answer has only one
 * position, and no time).
 */
async function append(store: EsdbStore, stream: string, events: NewEvent[], { expectedRevision }: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
  if (events.length === 0) throw new Error(`append to ${stream}: no events given`);
  const proposed = events.map((event) =>
    jsonEvent({
      id: event.id,
      type: event.type,
      data: event.data as Record<string, unknown>,
      // ESDB sets its own `created`; an imported event's original time travels here.
      ...(event.createdAt !== undefined ? { metadata: { createdAt: event.createdAt } } : {}),
    }),
  );
  const parts = partsWithin(proposed, proposedSize, store.maxAppendBytes - 4_096);
  let expected = expectedRevision;
  let last: EsdbAppendResult | null = null;
  let stored = 0;
  for (const part of parts) {
    try {
      last = await store.client.appendToStream(stream, part, { expectedRevision: expectedRevisionForEsdb(expected) });
      // With `throwOnAppendFailure=false` in the connection string the client RESOLVES a wrong
      // expected version with success: false (and a meaningless revision): still a conflict.
      if (!last.success) throw new WrongExpectedRevisionError(stream, expected, await streamRevision(store, stream));
    } catch (error) {
      const mapped = mapEsdbError(error, stream, expected);
      if (stored === 0) throw mapped;
      throw new Error(`append to ${stream}: the first ${stored} of ${events.length} events are stored (up to revision ${expected}), the rest failed`, { cause: mapped });
    }
    stored += part.length;
    expected = seqOfRevision(last.nextExpectedRevision);
  }
  const revision = expected as number;
  const first = revision - events.length + 1;
  const readBack = await readStreamEvents(store.client, stream, BigInt(Math.max(0, first - 1)), FORWARDS, events.length);
  // Retention may already hide some of them (a `$maxCount` smaller than the append): those keep
  // the append's own position and this node's clock.
  const now = Date.now();
  const position = positionOf(last!.position);
  const result = events.map(
    (event, i): StoredEvent =>
      readBack.find((e) => e.revision === first + i && e.id === event.id) ?? { ...event, stream, revision: first + i, position, createdAt: event.createdAt ?? now },
  );
  return { revision, position: result.at(-1)!.position, events: result };
}

/** The port's readStream: seqs (from 1) become ESDB revisions (from 0). */
async function readStream(store: EsdbStore, stream: string, opts: ReadStreamOptions = {}): Promise<StoredEvent[]> {
  const direction = opts.direction === 'backwards' ? BACKWARDS : FORWARDS;
  const from = opts.fromRevision !== undefined ? BigInt(Math.max(0, opts.fromRevision - 1)) : direction === BACKWARDS ? END : START;
  if (opts.limit === 0) return [];
  if (direction === BACKWARDS && opts.fromRevision !== undefined && opts.fromRevision < 1) return [];
  return readStreamEvents(store.client, stream, from, direction, opts.limit);
}

function subscribeToAll(store: EsdbStore, { afterPosition, onEvent, onError }: SubscribeToAllOptions): AllSubscription {
  const subscription = resilientSubscription({
    client: store.client,
    prefix: store.prefix,
    afterPosition,
    onEvent,
    delayMs: store.resubscribeDelayMs,
    onTransportError: store.onError,
    onError: (error) => {
      store.subscriptions.delete(handle);
      onError?.(error);
    },
  });
  const handle: AllSubscription = {
    async close() {
      store.subscriptions.delete(handle);
      await subscription.close();
    },
  };
  store.subscriptions.add(handle);
  return handle;
}

/**
 * Read-modify-write of the metadata stream `$$<stream>`, expecting the REVISION of its last event,
 * so two nodes setting retention at once cannot undo each other's change. Not getStreamMetadata:
 * its `metastreamRevision` is the metadata event's commit position in the log (client 6.2.1,
 * dist/streams/getStreamMetadata.js:30), which as an expectation fails every write but the first.
 */
async function setStreamRetention(store: EsdbStore, stream: string, retention: StreamRetention): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const last = await lastRawEvent(store.client, `$$${stream}`);
    const next = retentionMetadata(metadataFromRaw(last?.isJson ? last.data : undefined), retention);
    if (!next) return;
    try {
      const result = await store.client.setStreamMetadata(stream, next, { expectedRevision: last ? last.revision : NO_STREAM });
      if (result.success) return;
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
    }
    if (attempt >= 5) throw new Error(`setting the retention of ${stream}: the metadata kept changing under six attempts`);
  }
}

/** `$maxCount` and `$tb` (a revision: the port's seq is one more) as the metastream has them now. */
async function streamRetention(store: EsdbStore, stream: string): Promise<StreamRetention> {
  const last = await lastRawEvent(store.client, `$$${stream}`);
  const { maxCount, truncateBefore } = metadataFromRaw(last?.isJson ? last.data : undefined);
  return { maxCount: typeof maxCount === 'number' ? maxCount : null, ...(typeof truncateBefore === 'number' && truncateBefore > 0 ? { truncateBefore: truncateBefore + 1 } : {}) };
}

async function ping(store: EsdbStore): Promise<boolean> {
  if (store.closed) return false;
  try {
    await drain(store.client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 }), () => {});
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops the subscriptions (at once, even one waiting to resubscribe), cancels every call the
 * client holds (dispose) and closes the gRPC channel, which dispose leaves open (client
 * Client/index.js:160-179) with its keepalive pings.
 */
async function close(store: EsdbStore): Promise<void> {
  if (store.closed) return;
  store.closed = true;
  await Promise.all([...store.subscriptions].map((s) => s.close()));
  await store.client.dispose();
  if (!store.used) return;
  // getChannel is protected in the client's types; it is there at run time (Client/index.js:191).
  const channel = await (store.client as { getChannel?: () => Promise<{ close(): void }> }).getChannel?.().catch(() => null);
  channel?.close();
}
