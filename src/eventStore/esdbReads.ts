import {
  BACKWARDS,
  END,
  FORWARDS,
  START,
  StreamDeletedError as EsdbStreamDeletedError,
  StreamNotFoundError,
  type AllStreamResolvedEvent,
  type EventStoreDBClient,
  type Position,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type { StoredEvent } from './eventStore.js';
import { esdbPosition, storedFrom } from './esdbMapping.js';

/*
 * Reads over @eventstore/db-client 6.2.1, and the two things its reads do not do for us:
 * - A read is a gRPC call with no deadline that only `cancel()` ends early: leaving a `for await`
 *   destroys the client's stream but not the call piped into it, so the server keeps a read and
 *   an HTTP/2 stream open (100 per connection by default; then every call waits, appends too).
 *   Every read here goes through `drain`, which cancels in a `finally` whatever it did not finish.
 * - `readAll` sends no server-side filter, and $all holds much besides our streams: `$$<stream>`
 *   metadata events, the server's own `$` events, other applications' streams. So "up to `limit`
 *   of our events" means raw pages until the limit is met or the log ends, never one fixed window.
 */

type Read<T> = AsyncIterable<T> & { cancel?: () => Promise<void> };
type Direction = typeof FORWARDS | typeof BACKWARDS;
export type EsdbReader = Pick<EventStoreDBClient, 'readStream' | 'readAll'>;

/** Raw events of one $all page (at most what is asked for, so one page is one bounded call). */
export const RAW_PAGE = 1_000;

/** Every item of a read, or up to where `take` says stop; the call is cancelled unless it ended by itself. */
export async function drain<T>(read: Read<T>, take: (item: T) => boolean | void): Promise<void> {
  let ended = false;
  try {
    for await (const item of read) if (take(item) === false) return;
    ended = true;
  } finally {
    if (!ended) await read.cancel?.().catch(() => {});
  }
}

/** A stream's events; a missing or deleted stream reads as empty (ESDB throws while iterating). */
export async function readStreamEvents(
  client: EsdbReader,
  stream: string,
  from: bigint | typeof START | typeof END,
  direction: Direction,
  maxCount?: number,
): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  try {
    await drain(client.readStream(stream, { fromRevision: from, direction, ...(maxCount ? { maxCount } : {}) }), (resolved) => {
      const stored = storedFrom(resolved);
      if (stored) events.push(stored);
    });
  } catch (error) {
    if (error instanceof StreamNotFoundError || error instanceof EsdbStreamDeletedError) return [];
    throw error;
  }
  return events;
}

/** The raw last event of a stream (e.g. a metastream), null when there is none. */
export async function lastRawEvent(client: EsdbReader, stream: string): Promise<ResolvedEvent['event'] | null> {
  let last: ResolvedEvent['event'] | null = null;
  try {
    await drain(client.readStream(stream, { fromRevision: END, direction: BACKWARDS, maxCount: 1 }), (resolved) => {
      last = resolved.event ?? null;
    });
  } catch (error) {
    if (error instanceof StreamNotFoundError) return null;
    throw error;
  }
  return last;
}

/** Up to `limit` of our events after the (exclusive) position, reading raw pages as long as needed. */
export async function readAllAfter(client: EsdbReader, ours: (stream: string) => boolean, after: number, limit: number): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let from: Position | typeof START = esdbPosition(after);
  // A forwards read from a position starts AT it: the last raw event of a page comes again as the
  // first of the next, and `after` itself may come first. Whatever is not past both is skipped.
  let seen: Position | null = null;
  while (events.length < limit) {
    let raw = 0;
    let last: Position | null = null;
    await drain(client.readAll({ fromPosition: from, direction: FORWARDS, maxCount: RAW_PAGE }), (resolved: AllStreamResolvedEvent) => {
      raw++;
      const position = resolved.event?.position;
      if (!position || (seen && !isAfter(position, seen))) return;
      last = position;
      const stored = storedFrom(resolved);
      if (stored && stored.position > after && ours(stored.stream)) events.push(stored);
      if (events.length >= limit) return false;
    });
    if (raw < RAW_PAGE || last === null) break;
    from = last;
    seen = last;
  }
  return events.slice(0, limit);
}

/** The position of our newest event, 0 when there is none: raw pages backwards from the end. */
export async function newestPosition(client: EsdbReader, ours: (stream: string) => boolean): Promise<number> {
  let from: Position | typeof END = END;
  for (;;) {
    let raw = 0;
    let last: Position | null = null;
    let found = 0;
    // Backwards from a position reads the events before it, so pages neither overlap nor skip.
    await drain(client.readAll({ fromPosition: from, direction: BACKWARDS, maxCount: RAW_PAGE }), (resolved: AllStreamResolvedEvent) => {
      raw++;
      last = resolved.event?.position ?? last;
      const stored = storedFrom(resolved);
      if (stored && ours(stored.stream)) {
        found = stored.position;
        return false;
      }
    });
    if (found > 0) return found;
    if (raw < RAW_PAGE || last === null) return 0;
    from = last;
  }
}

function isAfter(a: Position, b: Position): boolean {
  return a.commit > b.commit || (a.commit === b.commit && a.prepare > b.prepare);
}
