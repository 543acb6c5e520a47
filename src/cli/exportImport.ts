import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { roomStream } from '../domain/events.js';
import { readWholeStream, storeFrom, type StoreOptions } from './context.js';
import { appendExportedBatch, type ExportedEvent } from './importBatch.js';
import { listRooms } from './rooms.js';
import { assertRoomsExist } from './unknownRoom.js';


/**
 * Writes rooms' streams as JSON lines (to a file or stdout), in seq order per room: the rooms
 * named, or with `all` every room in the log (private ones included), oldest first. An unknown
 * room is refused before anything is written; returns how many rooms and events went out.
 */
export async function exportRooms(options: StoreOptions & { room?: string[]; all?: boolean; out?: string }): Promise<{ rooms: number; events: number }> {
  if (options.all === Boolean(options.room?.length)) throw new Error('give --room <id...> or --all (not both)');
  const store = storeFrom(options);
  let out: NodeJS.WritableStream | null = null;
  let events = 0;
  try {
    const rooms = options.all ? (await listRooms(store)).map((room) => room.id) : options.room!;
    await assertRoomsExist(store, rooms);
    out = options.out ? createWriteStream(options.out) : process.stdout;
    for (const room of rooms) {
      for await (const event of readWholeStream(store, roomStream(room))) {
        const line: ExportedEvent = { stream: event.stream, revision: event.revision, id: event.id, type: event.type, data: event.data, createdAt: event.createdAt };
        events++;
        if (!out.write(`${JSON.stringify(line)}\n`)) await new Promise<void>((resolve) => out!.once('drain', () => resolve()));
      }
    }
    return { rooms: rooms.length, events };
  } finally {
    if (out && out !== process.stdout) await new Promise<void>((resolve) => out!.end(() => resolve()));
    await store.close();
  }
}

/**
 * Appends exported events to a store, keeping their streams, seqs, ids and times. Each event is
 * appended at exactly its revision (expected revision = its seq - 1), so an import into a store
 * that already has different events there fails loudly instead of renumbering; importing the
 * same file twice appends nothing the second time (the ids are already stored). Seqs retention
 * removed at the source are kept as gaps (importBatch.ts).
 */
export async function importEvents(options: StoreOptions & { file?: string }): Promise<{ appended: number; skipped: number }> {
  const store = storeFrom(options);
  const input = createInterface({ input: options.file ? createReadStream(options.file) : process.stdin, crlfDelay: Infinity });
  let batch: ExportedEvent[] = [];
  const counts = { appended: 0, skipped: 0 };
  try {
    let lineNumber = 0;
    for await (const line of input) {
      lineNumber++;
      if (line.trim() === '') continue;
      const event = parseLine(line, lineNumber);
      const last = batch.at(-1);
      if (last && (last.stream !== event.stream || event.revision !== last.revision + 1 || batch.length >= 500)) {
        await appendExportedBatch(store, batch, counts);
        batch = [];
      }
      batch.push(event);
    }
    if (batch.length > 0) await appendExportedBatch(store, batch, counts);
    return counts;
  } finally {
    await store.close();
  }
}

function parseLine(line: string, lineNumber: number): ExportedEvent {
  let value: Partial<ExportedEvent>;
  try {
    value = JSON.parse(line) as Partial<ExportedEvent>;
  } catch {
    throw new Error(`line ${lineNumber}: not JSON`);
  }
  const ok =
    typeof value.stream === 'string' &&
    Number.isInteger(value.revision) &&
    (value.revision as number) >= 1 &&
    typeof value.id === 'string' &&
    typeof value.type === 'string' &&
    typeof value.createdAt === 'number';
  if (!ok) throw new Error(`line ${lineNumber}: expected {stream, revision, id, type, data, createdAt}`);
  return value as ExportedEvent;
}
