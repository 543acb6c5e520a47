import { deterministicUuid } from '../domain/ids.js';
import { WrongExpectedRevisionError, type EventStore, type NewEvent } from '../eventStore/eventStore.js';
import { deletesOldEvents } from '../eventStore/retentionCapabilities.js';

/** One line of an export: everything needed to append the event again, exactly. */
export interface ExportedEvent {
  stream: string;
  revision: number;
  id: string;
  type: string;
  data: unknown;
  createdAt: number;
}

/**
 * What stands in for a revision the export does not have (retention removed it at the source):
 * no room event (the domain reads only its own types), so nothing folds or projects it.
 */
export const RETENTION_GAP = 'RetentionGap';

/**
 * Appends one run of consecutive exported events of a stream at exactly their revisions. Already
 * imported (the same ids at the same seqs): counted as skipped. Revisions missing before the run
 * (retention at the source deleted them, or the export starts after a cut) cannot be skipped by a
 * store that numbers a stream without gaps (EventStoreDB, and SQLite's own appends): they are
 * filled with RetentionGap placeholders first (deterministic ids, so a second import finds them),
 * which a store that deletes old events removes again at once, leaving the gap as it was.
 */
export async function appendExportedBatch(store: EventStore, batch: ExportedEvent[], counts: { appended: number; skipped: number }): Promise<void> {
  const first = batch[0]!;
  // Already imported: fine, nothing to do. Asked first, as EventStoreDB answers a repeated append
  // with success (the original events) rather than an error.
  const existing = await store.readStream(first.stream, { fromRevision: first.revision, limit: batch.length });
  if (existing.length === batch.length && existing.every((e, i) => e.id === batch[i]!.id)) {
    counts.skipped += batch.length;
    return;
  }
  const events: NewEvent[] = batch.map(({ id, type, data, createdAt }) => ({ id, type, data, createdAt }));
  const append = () => store.append(first.stream, events, { expectedRevision: first.revision - 1 });
  try {
    await append();
  } catch (error) {
    const behind = error instanceof WrongExpectedRevisionError && error.actual < first.revision - 1;
    if (!behind) throw new Error(`cannot import ${first.stream} at seq ${first.revision}: ${(error as Error).message}`);
    await fillGap(store, first, error.actual);
    await append();
    if (deletesOldEvents(store)) await store.trimStream(first.stream, { beforeRevision: first.revision, types: [RETENTION_GAP] });
  }
  counts.appended += batch.length;
}

async function fillGap(store: EventStore, first: ExportedEvent, from: number): Promise<void> {
  for (let revision = from; revision < first.revision - 1; ) {
    const count = Math.min(500, first.revision - 1 - revision);
    const gap = Array.from({ length: count }, (_, i): NewEvent => ({
      id: deterministicUuid(RETENTION_GAP, first.stream, String(revision + i + 1)),
      type: RETENTION_GAP,
      data: {},
      createdAt: first.createdAt,
    }));
    await store.append(first.stream, gap, { expectedRevision: revision });
    revision += count;
  }
}
