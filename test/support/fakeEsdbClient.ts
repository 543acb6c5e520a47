import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  BACKWARDS,
  END,
  FORWARDS,
  MaxAppendSizeExceededError,
  START,
  StreamDeletedError,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type AppendResult,
  type EventData,
  type EventStoreDBClient,
  type Position,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type { EsdbClient } from '../../src/eventStore/esdbEventStore.js';

/*
 * A fake of the part of @eventstore/db-client 6.2.1 the adapter uses, over an in-memory model of
 * the server, built to answer as the real pair does. Every behaviour below names where it comes
 * from: "client <file>:<line>" is node_modules/@eventstore/db-client/dist/<file> (v6.2.1);
 * "server" is EventStoreDB's own behaviour (23.10/24.10) as documented or as read in its source;
 * GUESS marks what could not be checked without a server, and says which way it guesses.
 *
 * What it models:
 * - One log ($all) of every event of every stream, in commit order, with byte-like positions
 *   (not dense). It starts with system events (`$`-streams, some not JSON) and another
 *   application's stream, and `$$<stream>` metadata events go into it like any other: readAll
 *   sends NO filter (client streams/readAll.js:37 `setNoFilter`), so a reader sees all of them.
 * - Appends with the server's expected-revision and idempotency rules, the 1 MiB maximum append
 *   size, deleted streams, and `success: false` answers when `throwOnAppendFailure` is off.
 * - Stream metadata (`$maxCount`, `$tb`) applied to stream reads only; $all keeps everything.
 * - Reads as object-mode streams with `cancel()`, subscriptions with `unsubscribe()`, a server
 *   that can drop subscriptions, HTTP/2's limit on concurrent calls, and `dispose()`.
 */

/** The server's default MaxAppendSize (1 MiB), sent back in MaximumAppendSizeExceeded. */
export const MAX_APPEND_SIZE = 1_048_576;
/** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS as the server (Kestrel) sets it: 100 by default. */
export const MAX_CONCURRENT_CALLS = 100;

interface Recorded {
  streamId: string;
  id: string;
  type: string;
  isJson: boolean;
  data: unknown;
  metadata: unknown;
  revision: bigint;
  position: { commit: bigint; prepare: bigint };
  created: Date;
}

interface FakeCall {
  kind: 'read' | 'subscription';
  /** The server has sent everything (or ended the call): it no longer holds a stream. */
  done: boolean;
  /** Cancels the call as dispose() does (Client/index.js:167-172). */
  cancel(): void;
  /** The client (one connection) that made it: the concurrent-call limit is per connection. */
  owner: object;
}

export interface FakeEsdbServer {
  log: Recorded[];
  streams: Map<string, { events: Recorded[]; deleted: boolean }>;
  /** Calls the server still holds open (HTTP/2 streams of the connection). */
  openCalls: Set<FakeCall>;
  subscriptions: Set<FakeSubscription>;
  /** Writes an event as another client would (another application, the server itself). */
  write(stream: string, type: string, data: unknown, options?: { isJson?: boolean }): Recorded;
  /** Hard-deletes a stream (tombstone): later appends and reads fail with StreamDeleted. */
  tombstone(stream: string): void;
  /** The server ends every live subscription with a transport error (leader change, restart). */
  dropSubscriptions(error?: Error): void;
  /**
   * While set, the server cannot be reached: every new call (append, read) fails with this error.
   * GUESS: the client turns grpc status 14 into its UnavailableError (utils/CommandError.js,
   * convertToCommandError) for a unary call and a read stream alike; a deadline that passes is
   * status 4, DeadlineExceededError.
   */
  unreachable: Error | null;
  /** Milliseconds added to the server's clock, to tell its time from the node's. */
  clockSkewMs: number;
  nextPosition: bigint;
}

type FakeSubscription = Readable & { unsubscribe(): Promise<void>; pump(): void };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createFakeEsdbServer(): FakeEsdbServer {
  const server: FakeEsdbServer = {
    log: [],
    streams: new Map(),
    openCalls: new Set(),
    subscriptions: new Set(),
    clockSkewMs: 0,
    unreachable: null,
    // GUESS: the log does not start at 0 (a chunk header and the server's own records come first).
    nextPosition: 1_000n,
    write: (stream, type, data, options = {}) => {
      const entry = streamOf(server, stream);
      return commit(server, stream, [{ id: randomUUID(), type, data, isJson: options.isJson ?? true, metadata: undefined }], entry.events.length)[0]!;
    },
    tombstone(stream) {
      streamOf(server, stream).deleted = true;
    },
    dropSubscriptions(error = new UnavailableError(undefined, '14 UNAVAILABLE: Connection dropped')) {
      for (const subscription of [...server.subscriptions]) {
        server.subscriptions.delete(subscription);
        subscription.destroy(error);
      }
    },
  };
  // What $all holds before any room: the server's own events (server: $epoch-information is
  // written at start; $scavenges when scavenging; $settings, users) and another application.
  server.write('$epoch-information', '$epoch-information', { epochNumber: 0 });
  server.write('$users', '$User', { loginName: 'admin' });
  server.write('$scavenges', '$scavengeStarted', {}, { isJson: false });
  server.write('orders-1', 'OrderPlaced', { total: 3 });
  return server;
}

function streamOf(server: FakeEsdbServer, stream: string) {
  let entry = server.streams.get(stream);
  if (!entry) server.streams.set(stream, (entry = { events: [], deleted: false }));
  return entry;
}

/** Appends to the log and the stream, and wakes the subscriptions. */
function commit(server: FakeEsdbServer, stream: string, events: Array<Omit<Recorded, 'streamId' | 'revision' | 'position' | 'created'>>, from: number): Recorded[] {
  const entry = streamOf(server, stream);
  const recorded = events.map((event, i) => {
    // Server: every event of one append gets commit == prepare == its own log position: an
    // append's prepares are implicitly committed, and $all reads report them as
    // CommitEventRecord(event, prepare.LogPosition) (src/EventStore.Core/Services/Storage/
    // ReaderIndex/AllReader.cs, ReadAllEventsForwardInternal). Positions grow by the record's size.
    const at = server.nextPosition;
    server.nextPosition += BigInt(120 + JSON.stringify(event.data ?? null).length);
    return { ...event, streamId: stream, revision: BigInt(from + i), position: { commit: at, prepare: at }, created: new Date(Date.now() + server.clockSkewMs) };
  });
  entry.events.push(...recorded);
  server.log.push(...recorded);
  for (const subscription of server.subscriptions) subscription.pump();
  return recorded;
}

/** Server: the first revision a stream read returns, from `$tb` and `$maxCount` in its metadata. */
function firstReadable(server: FakeEsdbServer, stream: string, last: number): number {
  // Server: a metastream keeps only its last event (MetastreamMaxCount = 1).
  if (stream.startsWith('$$')) return Math.max(0, last);
  const meta = server.streams.get(`$$${stream}`)?.events.at(-1)?.data as Record<string, unknown> | undefined;
  let first = 0;
  if (typeof meta?.$tb === 'number') first = Math.max(first, meta.$tb);
  if (typeof meta?.$maxCount === 'number') first = Math.max(first, last - meta.$maxCount + 1);
  return first;
}

const before = (a: { commit: bigint; prepare: bigint }, b: { commit: bigint; prepare: bigint }) =>
  a.commit < b.commit || (a.commit === b.commit && a.prepare < b.prepare);

/** Approximates the server's size check: the serialized proposed message (id, type, content type, data, metadata). */
function proposedSize(event: EventData): number {
  const data = event.contentType === 'application/json' ? Buffer.byteLength(JSON.stringify(event.data)) : (event.data as Uint8Array).length;
  const metadata = event.metadata ? Buffer.byteLength(JSON.stringify(event.metadata)) : 0;
  return 16 + event.type.length + event.contentType.length + data + metadata + 24;
}

export interface FakeEsdbClient extends EsdbClient {
  server: FakeEsdbServer;
  /** Not used by the adapter any more (finding 1); kept to show what the real client answers. */
  getStreamMetadata: EventStoreDBClient['getStreamMetadata'];
  /** Client/index.js:114 declares it protected; grpc-js channels have `close()`. */
  getChannel(): Promise<{ close(): void }>;
  channelClosed: boolean;
  /** How many calls each method made (what a test may check the adapter asks for). */
  calls: Record<string, number>;
}

export function createFakeEsdbClient(options: { server?: FakeEsdbServer; throwOnAppendFailure?: boolean; maxAppendSize?: number } = {}): FakeEsdbClient {
  const server = options.server ?? createFakeEsdbServer();
  const throwOnAppendFailure = options.throwOnAppendFailure ?? true; // client Client/index.js:116
  const maxAppendSize = options.maxAppendSize ?? MAX_APPEND_SIZE;
  const calls: Record<string, number> = {};
  const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);
  let channelClosed = false;
  // GUESS: grpc-js refuses new calls on a closed channel ("Channel has been shut down").
  const shutDown = () => new Error('Channel has been shut down');
  /** Whether the call may start: it is among the first MAX_CONCURRENT_CALLS open ones. */
  const connection = {};
  const ownCalls = () => [...server.openCalls].filter((call) => call.owner === connection);
  const slotFree = (call: FakeCall) => ownCalls().indexOf(call) < MAX_CONCURRENT_CALLS;

  /**
   * A read: an object-mode stream that the server fills as the consumer reads (HTTP/2 flow
   * control, modelled as highWaterMark objects ahead). The call stays open on the server until
   * everything is sent or the client calls `cancel()` (client streams/utils/ReadStream.js:60-70).
   * Breaking out of `for await` destroys only the client's Transform; the gRPC call piped into it
   * is not cancelled (ReadStream.js:25-32 pipes it; nothing cancels it on destroy), so the server
   * keeps it: the leak of finding 3. GUESS: the real window is in bytes, not events.
   */
  function readCall(produce: () => Array<ResolvedEvent | AllStreamResolvedEvent> | Error): Readable & { cancel(): Promise<void> } {
    const call: FakeCall = { kind: 'read', done: false, cancel: () => void stream.cancel(), owner: connection };
    let items: Array<ResolvedEvent | AllStreamResolvedEvent> | null = null;
    let index = 0;
    const finish = () => {
      call.done = true;
      server.openCalls.delete(call);
    };
    const stream = new Readable({
      objectMode: true,
      highWaterMark: 16,
      read() {
        if (channelClosed) {
          finish();
          this.destroy(shutDown());
          return;
        }
        if (items === null && server.unreachable) {
          finish();
          this.destroy(server.unreachable);
          return;
        }
        if (items === null) {
          // HTTP/2: past the connection's concurrent streams the call waits for one to end.
          if (!slotFree(call)) {
            setTimeout(() => this.read(), 5);
            return;
          }
          const produced = produce();
          if (produced instanceof Error) {
            // client ReadStream.js:46-52: StreamNotFound destroys the call with the error, which
            // the Transform re-emits (ReadStream.js:26-30): the iteration throws.
            finish();
            this.destroy(produced);
            return;
          }
          items = produced;
        }
        while (index < items.length) {
          if (!this.push(items[index++])) return;
        }
        finish();
        this.push(null);
      },
    }) as Readable & { cancel(): Promise<void> };
    server.openCalls.add(call);
    stream.cancel = async () => {
      // client ReadStream.js:60-70: cancels the gRPC call on the next tick. grpc-js ends the
      // stream (no error reaches the reader: the cancellation is filtered, ReadStream.js:27).
      await new Promise((resolve) => setImmediate(resolve));
      finish();
      if (!stream.destroyed) stream.push(null);
    };
    return stream;
  }

  const resolvedFromStream = (event: Recorded): ResolvedEvent =>
    // The server sends the event's commit position with a stream read's events as well; client
    // utils/convertGrpcEvent.js:14-16 puts it in `commitPosition` (what getStreamMetadata returns).
    ({ event: { ...event } as never, commitPosition: event.position.commit });
  const resolvedFromAll = (event: Recorded): AllStreamResolvedEvent => ({ event: { ...event } as never, commitPosition: event.position.commit });

  const client: FakeEsdbClient = {
    server,
    calls,
    get channelClosed() {
      return channelClosed;
    },
    async getChannel() {
      return { close: () => void (channelClosed = true) };
    },

    // client streams/appendToStream/index.js:3-23 goes through batchAppend (the server supports it).
    async appendToStream(streamName: string, event: EventData | EventData[], { expectedRevision = 'any' as AppendExpectedRevision } = {}): Promise<AppendResult> {
      count('appendToStream');
      if (channelClosed) throw shutDown();
      if (server.unreachable) throw server.unreachable;
      const events = Array.isArray(event) ? event : [event];
      await Promise.resolve(); // an answer always comes back asynchronously
      // HTTP/2: an append is a call too; past the connection's concurrent streams it waits.
      while (ownCalls().length >= MAX_CONCURRENT_CALLS) await new Promise((resolve) => setTimeout(resolve, 5));
      for (const e of events) {
        // GUESS: the server parses the id string as a Guid (batchAppend.js:108-110 sends it as a
        // string) and fails the call when it is not one.
        if (!UUID.test(e.id)) throw new Error(`Invalid UUID string: ${e.id}`);
      }
      // Server: the sum of the proposed messages' sizes may not exceed MaxAppendSize; the client
      // turns the error into MaxAppendSizeExceededError (appendToStream/unpackError.js:259-263).
      const size = events.reduce((sum, e) => sum + proposedSize(e), 0);
      if (size > maxAppendSize) throw MaxAppendSizeExceededError.fromMaxAppendSize(maxAppendSize);
      const entry = streamOf(server, streamName);
      // unpackError.js:235-239. Server: a hard-deleted stream's metastream takes no writes either.
      if (entry.deleted || (streamName.startsWith('$$') && server.streams.get(streamName.slice(2))?.deleted)) throw StreamDeletedError.fromStreamName(streamName);
      const current = entry.events.length - 1; // -1: no stream
      const wrong = () => {
        const expected = expectedRevision;
        if (throwOnAppendFailure) {
          throw new WrongExpectedVersionError(undefined, { streamName, current: current < 0 ? 'no_stream' : BigInt(current), expected: expected as never });
        }
        // client batchAppend.js:25-36: with throwOnAppendFailure off, a wrong expected version
        // RESOLVES with success: false, and nextExpectedRevision is BigInt(hasCurrentStreamRevision()),
        // i.e. 1n or 0n (a bug in 6.2.1, kept here as the client has it).
        return { success: false, nextExpectedRevision: BigInt(current >= 0 ? 1 : 0), position: undefined };
      };
      /*
       * Server idempotency: IndexWriter.CheckCommit (src/EventStore.Core/Services/Storage/
       * ReaderIndex/IndexWriter.cs). With an expected revision below the current one, the ids must
       * be exactly the stored events from expected + 1 on: then the write succeeds AGAIN with the
       * original numbers and the log position of the original last event, storing nothing; a
       * mismatch is WrongExpectedVersion (CorruptedIdempotency answers the same). Expected ==
       * current writes without looking at the ids; expected > current is WrongExpectedVersion.
       * Not modelled (a single node here): in a cluster, a repeat of a write not yet replicated
       * gets no answer at all (IdempotentNotReady: "drop the write and wait for the client to
       * retry"), which the client sees as a deadline exceeded.
       */
      const original = (last: number): AppendResult => ({
        success: true,
        nextExpectedRevision: BigInt(last),
        position: { ...entry.events[last]!.position },
      });
      const repeatOf = (from: number): AppendResult | null => {
        const stored = entry.events.slice(from, from + events.length);
        return stored.length === events.length && stored.every((s, i) => s.id === events[i]!.id) ? original(from + events.length - 1) : null;
      };
      let repeat: AppendResult | null = null;
      if (expectedRevision === 'any' || expectedRevision === 'stream_exists') {
        if (expectedRevision === 'stream_exists' && current < 0) return wrong();
        // Server, Any: every id is looked up in the cache of committed ids (GUESS: modelled as
        // never evicting); none known on the first: written; all known in this stream: a repeat
        // (up to the last one's number); known, then not: WrongExpectedVersion.
        const numbers = events.map((e) => entry.events.findIndex((s) => s.id === e.id));
        if (numbers[0]! >= 0) {
          if (numbers.some((n) => n < 0)) return wrong();
          repeat = original(numbers.at(-1)!);
        }
      } else if (expectedRevision === 'no_stream') {
        if (current >= 0) return repeatOf(0) ?? wrong();
      } else {
        const expected = Number(expectedRevision);
        if (current > expected) return repeatOf(expected + 1) ?? wrong();
        if (current < expected) return wrong();
      }
      if (repeat) return repeat;
      // Server: ids are checked per stream only; the same id in another stream is stored.
      // GUESS: an id repeated within one append is stored twice (no check inside a batch).
      const recorded = commit(
        server,
        streamName,
        events.map((e) => ({ id: e.id, type: e.type, isJson: e.contentType === 'application/json', data: e.data, metadata: e.metadata })),
        current + 1,
      );
      const last = recorded.at(-1)!;
      // client batchAppend.js:40-53. GUESS: the position is the last event's.
      return { success: true, nextExpectedRevision: last.revision, position: { ...last.position } };
    },

    // client streams/readStream.js:10-71.
    readStream(streamName: string, { fromRevision = START, direction = FORWARDS, maxCount = Number.MAX_SAFE_INTEGER }: { fromRevision?: bigint | typeof START | typeof END; direction?: typeof FORWARDS | typeof BACKWARDS; maxCount?: number | bigint } = {}) {
      count('readStream');
      if (typeof fromRevision === 'bigint' && fromRevision < 0n) throw new Error('fromRevision value must be a non-negative integer'); // readStream.js:30-32
      return readCall(() => {
        const entry = server.streams.get(streamName);
        if (entry?.deleted) return StreamDeletedError.fromStreamName(streamName);
        if (!entry || entry.events.length === 0) return new StreamNotFoundError(undefined, streamName);
        const last = entry.events.length - 1;
        const first = firstReadable(server, streamName, last);
        const max = Number(maxCount);
        let selected: Recorded[];
        if (direction === FORWARDS) {
          const from = Math.max(first, fromRevision === START ? 0 : fromRevision === END ? last + 1 : Number(fromRevision));
          selected = entry.events.slice(from, from + max);
        } else {
          const from = Math.min(last, fromRevision === END ? last : fromRevision === START ? 0 : Number(fromRevision));
          selected = [];
          for (let r = from; r >= first && selected.length < max; r--) selected.push(entry.events[r]!);
        }
        return selected.map(resolvedFromStream);
      }) as never;
    },

    // client streams/readAll.js:10-62: no filter is sent (line 37), whatever the caller wants.
    readAll({ fromPosition = START, direction = FORWARDS, maxCount = Number.MAX_SAFE_INTEGER }: { fromPosition?: Position | typeof START | typeof END; direction?: typeof FORWARDS | typeof BACKWARDS; maxCount?: number | bigint } = {}) {
      count('readAll');
      return readCall(() => {
        const max = Number(maxCount);
        const log = server.log;
        if (direction === FORWARDS) {
          // Server: forwards from a position includes the event at it (AllReader.cs: `>= pos`).
          const start = fromPosition === START ? 0 : fromPosition === END ? log.length : log.findIndex((e) => !before(e.position, fromPosition));
          return (start < 0 ? [] : log.slice(start, start + max)).map(resolvedFromAll);
        }
        // Server: backwards from a position gives the events before it (AllReader.cs,
        // ReadAllEventsBackwardInternal: an event is taken when its position is `< pos`).
        let end = log.length;
        if (fromPosition === START) end = 0;
        else if (fromPosition !== END) end = log.filter((e) => before(e.position, fromPosition)).length;
        return log.slice(Math.max(0, end - max), end).reverse().map(resolvedFromAll);
      }) as never;
    },

    /**
     * client streams/subscribeToAll.js:10-88: a server-side filter (prefixes, line 37-69), catch-up
     * then live, from a position EXCLUSIVE (server). `unsubscribe()` cancels the call
     * (streams/utils/Subscription.js:68-78) and the iteration ends without an error. A server
     * drop (dropSubscriptions) is an error of the iteration; the client never resubscribes.
     */
    subscribeToAll({ fromPosition = START, filter }: { fromPosition?: Position | typeof START | typeof END; filter?: { prefixes?: string[]; filterOn?: string } } = {}) {
      count('subscribeToAll');
      const call: FakeCall = { kind: 'subscription', done: false, cancel: () => void subscription.unsubscribe(), owner: connection };
      let index =
        fromPosition === START ? 0 : fromPosition === END ? server.log.length : server.log.filter((e) => !before(fromPosition, e.position)).length;
      const prefixes = filter?.filterOn === 'eventType' ? null : filter?.prefixes;
      const wanted = (e: Recorded) => !prefixes || prefixes.some((p) => e.streamId.startsWith(p));
      let reading = false;
      const subscription = new Readable({
        objectMode: true,
        highWaterMark: 16,
        read() {
          reading = true;
          subscription.pump();
        },
        destroy(error, callback) {
          server.subscriptions.delete(subscription);
          call.done = true;
          server.openCalls.delete(call);
          callback(error);
        },
      }) as FakeSubscription;
      subscription.pump = () => {
        if (!reading || subscription.destroyed || call.done) return;
        while (index < server.log.length) {
          const event = server.log[index++]!;
          if (!wanted(event)) continue;
          if (!subscription.push(resolvedFromAll(event))) {
            reading = false;
            return;
          }
        }
      };
      subscription.unsubscribe = async () => {
        await new Promise((resolve) => setImmediate(resolve));
        server.subscriptions.delete(subscription);
        call.done = true;
        server.openCalls.delete(call);
        if (!subscription.destroyed) subscription.push(null);
      };
      if (channelClosed) {
        setImmediate(() => subscription.destroy(shutDown()));
      } else {
        server.subscriptions.add(subscription);
        server.openCalls.add(call);
      }
      return subscription as never;
    },

    // client streams/getStreamMetadata.js:8-39, line for line over this fake's readStream.
    async getStreamMetadata(streamName: string) {
      count('getStreamMetadata');
      try {
        let metadataEvent: ResolvedEvent | undefined;
        for await (const e of client.readStream(`$$${streamName}`, { fromRevision: END, maxCount: 1, direction: BACKWARDS })) {
          metadataEvent = e as ResolvedEvent;
        }
        if (!metadataEvent || !metadataEvent.event || !metadataEvent.event.isJson) return { streamName };
        return {
          streamName,
          metadata: readStreamMetadata(metadataEvent.event.data as Record<string, unknown>),
          // getStreamMetadata.js:30: the COMMIT POSITION of the metadata event, not its revision.
          metastreamRevision: metadataEvent.commitPosition,
        };
      } catch (error) {
        if (error instanceof StreamNotFoundError) return { streamName };
        throw error;
      }
    },

    // client streams/setStreamMetadata.js:8-18: one `$metadata` event (fresh uuid) appended to `$$<stream>`.
    async setStreamMetadata(streamName: string, metadata: Record<string, unknown>, options: { expectedRevision?: AppendExpectedRevision } = {}) {
      count('setStreamMetadata');
      const event: EventData = { id: randomUUID(), type: '$metadata', contentType: 'application/json', data: prepareStreamMetadata(metadata), metadata: undefined } as EventData;
      return client.appendToStream(`$$${streamName}`, event, options);
    },

    /**
     * client Client/index.js:160-179: cancels every stream the client holds and waits for them to
     * finish; it does NOT close the channel, and the client stays usable afterwards.
     */
    async dispose() {
      count('dispose');
      for (const call of ownCalls()) call.cancel();
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    },
  } as unknown as FakeEsdbClient;
  return client;
}

// client streams/utils/streamMetadata.js:4-76 (not exported by the package): the client's names
// become the server's `$` keys and back, ACL roles included; any other key passes unchanged.
const KEYS: Record<string, string> = { maxAge: '$maxAge', truncateBefore: '$tb', cacheControl: '$cacheControl', maxCount: '$maxCount', acl: '$acl' };
const ACL_KEYS: Record<string, string> = { readRoles: '$r', writeRoles: '$w', deleteRoles: '$d', metaReadRoles: '$mr', metaWriteRoles: '$mw' };
const invert = (keys: Record<string, string>) => Object.fromEntries(Object.entries(keys).map(([k, v]) => [v, k]));
const renameKeys = (value: unknown, keys: Record<string, string>) =>
  typeof value === 'string' || !value ? value : Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (keys[k] ? [[keys[k], v]] : [])));
function prepareStreamMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(metadata).map(([key, value]) => [KEYS[key] ?? key, key === 'acl' ? renameKeys(value, ACL_KEYS) : value]));
}
function readStreamMetadata(data: Record<string, unknown>): Record<string, unknown> {
  const back = invert(KEYS);
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [back[key] ?? key, key === '$acl' ? renameKeys(value, invert(ACL_KEYS)) : value]));
}
