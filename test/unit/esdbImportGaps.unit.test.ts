import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { importEvents } from '../../src/cli/exportImport.js';
import { appendExportedBatch, type ExportedEvent } from '../../src/cli/importBatch.js';
import { createEsdbEventStore } from '../../src/eventStore/esdbEventStore.js';
import type { EventStore, StoredEvent } from '../../src/eventStore/eventStore.js';
import { createSqliteEventStore } from '../../src/eventStore/sqliteEventStore.js';
import { createFakeEsdbClient } from '../support/fakeEsdbClient.js';

/*
 * Finding 7 of issue 13 (the last item): the README offers moving a SQLite log to EventStoreDB
 * with export and import, but a room whose old messages SQLite's retention deleted has gaps in its
 * seqs, and no store can append past a gap: the import failed at the first one. Seqs are kept
 * (clients hold them), so the gap is filled with placeholders the domain does not read.
 */
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomlog-import-'));
  dirs.push(dir);
  return dir;
};

/** A SQLite room whose messages 3..7 retention deleted, exported as the CLI exports it. */
async function trimmedSqliteExport(): Promise<{ lines: ExportedEvent[]; kept: StoredEvent[] }> {
  const source = createSqliteEventStore({ file: join(tempDir(), 'events.sqlite') });
  const types = ['RoomCreated', 'MemberJoined', 'MessagePosted', 'MessagePosted', 'MessagePosted', 'MessagePosted', 'MessagePosted', 'HistoryTrimmed', 'MessagePosted'];
  await source.append('room-r', types.map((type, i) => ({ id: randomUUID(), type, data: { i }, createdAt: 1_000 + i })), { expectedRevision: 0 });
  expect(await source.trimStream('room-r', { beforeRevision: 8, types: ['MessagePosted'] })).toBe(5);
  const kept = await source.readStream('room-r');
  await source.close();
  return { kept, lines: kept.map(({ stream, revision, id, type, data, createdAt }) => ({ stream, revision, id, type, data, createdAt })) };
}

/** As importEvents cuts the lines: runs of consecutive seqs. */
async function importInto(store: EventStore, lines: ExportedEvent[]) {
  const counts = { appended: 0, skipped: 0 };
  let batch: ExportedEvent[] = [];
  for (const line of lines) {
    if (batch.length > 0 && line.revision !== batch.at(-1)!.revision + 1) {
      await appendExportedBatch(store, batch, counts);
      batch = [];
    }
    batch.push(line);
  }
  await appendExportedBatch(store, batch, counts);
  return counts;
}

describe('importing a log with retention gaps', () => {
  it('into SQLite (the CLI, end to end): the same seqs, the gap kept as a gap, and a second import appends nothing', async () => {
    const { lines, kept } = await trimmedSqliteExport();
    const file = join(tempDir(), 'rooms.jsonl');
    writeFileSync(file, lines.map((line) => JSON.stringify(line)).join('\n'));
    const target = tempDir();
    expect(await importEvents({ file, dataDir: target, eventStore: 'sqlite' })).toEqual({ appended: 4, skipped: 0 });
    expect(await importEvents({ file, dataDir: target, eventStore: 'sqlite' })).toEqual({ appended: 0, skipped: 4 });
    const store = createSqliteEventStore({ file: join(target, 'events.sqlite') });
    expect((await store.readStream('room-r')).map(({ revision, id, type, createdAt }) => ({ revision, id, type, createdAt }))).toEqual(
      kept.map(({ revision, id, type, createdAt }) => ({ revision, id, type, createdAt })),
    );
    await store.close();
  });

  it('into EventStoreDB (the faithful fake): the same seqs, placeholders in the gap, idempotent', async () => {
    const { lines, kept } = await trimmedSqliteExport();
    const store = createEsdbEventStore({ client: createFakeEsdbClient() });
    expect(await importInto(store, lines)).toEqual({ appended: 4, skipped: 0 });
    expect(await importInto(store, lines)).toEqual({ appended: 0, skipped: 4 });
    const events = await store.readStream('room-r');
    expect(events.map((e) => e.type)).toEqual(['RoomCreated', 'MemberJoined', ...Array(5).fill('RetentionGap'), 'HistoryTrimmed', 'MessagePosted']);
    const real = events.filter((e) => e.type !== 'RetentionGap');
    expect(real.map(({ revision, id, createdAt }) => ({ revision, id, createdAt }))).toEqual(kept.map(({ revision, id, createdAt }) => ({ revision, id, createdAt })));
    await store.close();
  });
});
