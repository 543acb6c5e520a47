/**
 * Fills a DATA_DIR's event log with many room events, fast, by writing the SQLite file through the
 * server's own adapter instead of the API.
 *
 * The event shapes are not hard-coded: the server first writes a real room with one message through
 * the API (the template), and the clones copy those events with fresh room, event, message and
 * client-message ids substituted everywhere they occur. If the payloads change, the seed follows.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EventStore, NewEvent, StoredEvent } from '../../../src/eventStore/eventStore.js';

export interface Template {
  roomId: string;
  messageId: string;
  clientMessageId: string;
}

export interface SeedResult {
  events: number;
  rooms: { roomId: string; events: number }[];
  elapsedMs: number;
}

type SqliteFactory = (options: { file: string }) => EventStore;

export async function loadSqliteFactory(serverRoot: string): Promise<SqliteFactory> {
  // A computed specifier: the bench must still type-check and start while the adapter is missing.
  const specifier = pathToFileURL(join(serverRoot, 'src/eventStore/sqliteEventStore.ts')).href;
  const mod = (await import(specifier)) as { createSqliteEventStore?: SqliteFactory };
  if (typeof mod.createSqliteEventStore !== 'function') throw new Error('src/eventStore/sqliteEventStore.ts exports no createSqliteEventStore');
  return mod.createSqliteEventStore;
}

/** An id shaped like `sample`: lower-case base-36 of the same length, or else a UUID. */
function idLike(sample: string): string {
  if (/^[0-9a-z]{6,40}$/.test(sample)) {
    const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
    return Array.from(randomBytes(sample.length), (b) => alphabet[b % 36]).join('');
  }
  return randomUUID();
}

function substitute(value: unknown, swaps: readonly [string, string][]): unknown {
  if (typeof value === 'string') return swaps.reduce((s, [from, to]) => s.split(from).join(to), value);
  if (Array.isArray(value)) return value.map((v) => substitute(v, swaps));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, swaps)]));
  }
  return value;
}

function cloneEvent(e: StoredEvent, swaps: [string, string][]): NewEvent {
  // The event id may be derived from the ids being swapped (then it changes with them) or random;
  // either way every occurrence in the payload follows it (a message id may embed its event id).
  const swapped = substitute(e.id, swaps) as string;
  const id = swapped === e.id ? randomUUID() : swapped;
  return { id, type: e.type, data: substitute(e.data, [...swaps, [e.id, id]]) };
}

export async function seedEvents(serverRoot: string, dataDir: string, template: Template, total: number, perRoom: number): Promise<SeedResult> {
  const t0 = performance.now();
  const createStore = await loadSqliteFactory(serverRoot);
  const store = createStore({ file: join(dataDir, 'events.sqlite') });
  try {
    const all = await store.readAll();
    const stream = all.find((e) => JSON.stringify(e.data).includes(template.roomId))?.stream;
    const roomEvents = all.filter((e) => e.stream === stream);
    const post = roomEvents.find((e) => JSON.stringify(e.data).includes(template.clientMessageId));
    if (!stream || !post) throw new Error(`template room ${template.roomId} or its message not found in the log (${all.length} events)`);
    const prefix = roomEvents.filter((e) => e.revision < post.revision);
    if (!stream.endsWith(template.roomId)) throw new Error(`room stream ${stream} does not end with the room id`);
    const streamOf = (roomId: string): string => stream.slice(0, stream.length - template.roomId.length) + roomId;
    const rooms: SeedResult['rooms'] = [];
    let written = 0;
    while (written < total) {
      const roomId = idLike(template.roomId);
      const count = Math.min(perRoom, total - written);
      const batch: NewEvent[] = [];
      for (const e of prefix.slice(0, count)) batch.push(cloneEvent(e, [[template.roomId, roomId]]));
      let revision = 0;
      for (let k = batch.length; k < count; k++) {
        const swaps: [string, string][] = [
          [template.roomId, roomId],
          [template.clientMessageId, `seed-${k}-${randomUUID().slice(0, 8)}`],
        ];
        batch.push(cloneEvent(post, swaps));
        if (batch.length === 1_000) {
          revision = (await store.append(streamOf(roomId), batch.splice(0), { expectedRevision: revision })).revision;
        }
      }
      if (batch.length) await store.append(streamOf(roomId), batch, { expectedRevision: revision });
      rooms.push({ roomId, events: count });
      written += count;
    }
    return { events: written, rooms, elapsedMs: performance.now() - t0 };
  } finally {
    await store.close();
  }
}
