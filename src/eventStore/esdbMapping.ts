import {
  ANY,
  DeadlineExceededError,
  MaxAppendSizeExceededError,
  NO_STREAM,
  START,
  StreamDeletedError as EsdbStreamDeletedError,
  UnavailableError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type Position,
  type ResolvedEvent,
  type StreamMetadata,
} from '@eventstore/db-client';
import { EventStoreUnavailableError, StreamDeletedError, WrongExpectedRevisionError, type ExpectedRevision, type StoredEvent } from './eventStore.js';
import type { StreamRetention } from './retentionCapabilities.js';

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

/**
 * The server did not answer (gRPC UNAVAILABLE: no connection, the leader went away; or the call's
 * deadline passed) as the port says it: EventStoreUnavailableError, which clients see as
 * UNAVAILABLE with a retry delay, as they do for PostgreSQL and SQLite. Anything else as it is.
 */
export function unavailableFromEsdb(error: unknown): unknown {
  return error instanceof UnavailableError || error instanceof DeadlineExceededError ? new EventStoreUnavailableError(error) : error;
}

/** A port error for an ESDB error where one applies; anything else is passed on as it is. */
export function mapEsdbError(error: unknown, stream: string, expected: ExpectedRevision): unknown {
  if (error instanceof WrongExpectedVersionError) {
    const actual = error.actualVersion;
    return new WrongExpectedRevisionError(stream, expected, typeof actual === 'bigint' ? seqOfRevision(actual) : 0);
  }
  if (error instanceof EsdbStreamDeletedError) return new StreamDeletedError(stream);
  if (error instanceof MaxAppendSizeExceededError) {
    return new Error(`append to ${stream}: larger than EventStoreDB's maximum append size (${error.maxAppendSize} bytes)`, { cause: error });
  }
  return error;
}

/**
 * The stream metadata as `retentionMetadata` reads it, from the raw `$metadata` event: `$maxCount`
 * and `$tb` under the client's names, every other key (an ACL, say) kept exactly as stored, which
 * the client's setStreamMetadata writes back unchanged (it renames only the client's own names).
 */
export function metadataFromRaw(raw: unknown): StreamMetadata {
  const { $maxCount, $tb, ...rest } = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  return {
    ...rest,
    ...(typeof $maxCount === 'number' ? { maxCount: $maxCount } : {}),
    ...(typeof $tb === 'number' ? { truncateBefore: $tb } : {}),
  } as StreamMetadata;
}

/**
 * An event's size as EventStoreDB counts it against its maximum append size (the proposed
 * message: data, metadata, type, content type, id), rounded up: a part is cut well before the
 * limit, so an estimate that is a little high costs only a few more parts.
 */
export function proposedSize(event: { type: string; data: unknown; metadata?: unknown }): number {
  const metadata = event.metadata === undefined ? 0 : Buffer.byteLength(JSON.stringify(event.metadata));
  return Buffer.byteLength(JSON.stringify(event.data) ?? '') + metadata + Buffer.byteLength(event.type) + 96;
}

/** `items` in order, in parts whose summed size stays within `maxBytes` (an item alone may exceed it). */
export function partsWithin<T>(items: readonly T[], size: (item: T) => number, maxBytes: number): T[][] {
  const parts: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const itemBytes = size(item);
    if (current.length > 0 && bytes + itemBytes > maxBytes) {
      parts.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += itemBytes;
  }
  if (current.length > 0) parts.push(current);
  return parts;
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
