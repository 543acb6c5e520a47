import { deterministicUuid } from '../../src/domain/ids.js';
import type { EventStore, StoredEvent } from '../../src/eventStore/eventStore.js';
import {
  deletesOldEvents,
  keepsStreamMetadata,
  type DeletesOldEvents,
  type KeepsStreamMetadata,
  type StreamRetention,
} from '../../src/eventStore/retentionCapabilities.js';

/** The retention capabilities of `S`, which the wrapper passes on (mapped like everything else). */
type RetentionOf<S> = (S extends DeletesOldEvents ? DeletesOldEvents : unknown) & (S extends KeepsStreamMetadata ? KeepsStreamMetadata : unknown);

/**
 * Runs the contract against a SHARED server (EventStoreDB) without seeing other runs: stream
 * `room-a` becomes `room-<run>a`, event ids become UUIDs derived from (run, id) as ESDB requires,
 * and reads see only this run's streams, mapped back. Checked against the memory store too
 * (eventStore.namespaced.int.test.ts), so the wrapper itself is known to be faithful.
 */
export function namespacedStore<S extends EventStore>(inner: S, run: string): EventStore & RetentionOf<S> {
  const ids = new Map<string, string>();
  const toInner = (stream: string) => stream.replace(/^room-/, `room-${run}`);
  const mine = (stream: string) => stream.startsWith(`room-${run}`);
  const idOut = (id: string) => ids.get(id) ?? id;
  const idIn = (id: string) => {
    const uuid = deterministicUuid(run, id);
    ids.set(uuid, id);
    return uuid;
  };
  const out = (event: StoredEvent): StoredEvent => ({ ...event, id: idOut(event.id), stream: event.stream.replace(`room-${run}`, 'room-') });
  // The newest position of this run's events. The inner store's head is the whole server's, which
  // other runs (and other applications) keep moving; each run has its own wrapper, and nothing but
  // the wrapper writes the run's streams, so its own appends are all there is to know.
  let head = 0;
  const port: EventStore = {
    async append(stream, events, options) {
      const result = await inner.append(toInner(stream), events.map((e) => ({ ...e, id: idIn(e.id) })), options).catch((error: unknown) => {
        if (error && typeof error === 'object') {
          const e = error as { stream?: string; eventId?: string };
          if (e.stream) e.stream = stream;
          if (e.eventId) e.eventId = idOut(e.eventId);
        }
        throw error;
      });
      head = Math.max(head, result.position);
      return { ...result, events: result.events.map(out) };
    },
    async readStream(stream, options) {
      return (await inner.readStream(toInner(stream), options)).map(out);
    },
    streamRevision: (stream) => inner.streamRevision(toInner(stream)),
    async readAll({ afterPosition = 0, limit = Infinity } = {}) {
      // The limit counts this run's events: page through the inner store until it is met or the
      // log ends (a page of other runs' events alone must not end the read).
      const found: StoredEvent[] = [];
      const page = 500;
      for (let after = afterPosition; found.length < limit; ) {
        const raw = await inner.readAll({ afterPosition: after, limit: page });
        for (const e of raw) if (mine(e.stream) && found.length < limit) found.push(out(e));
        if (raw.length < page) break;
        after = raw.at(-1)!.position;
      }
      return found;
    },
    headPosition: async () => head,
    subscribeToAll({ afterPosition, onEvent, onError }) {
      return inner.subscribeToAll({ afterPosition, onError, onEvent: (e) => (mine(e.stream) ? onEvent(out(e)) : undefined) });
    },
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
  const deleting: Partial<DeletesOldEvents> = deletesOldEvents(inner)
    ? {
        trimStream: (stream, options) => inner.trimStream(toInner(stream), options),
        async retentionScan({ prefix, since }) {
          const entries = await inner.retentionScan({ prefix: toInner(prefix), since });
          return entries.filter((e) => mine(e.stream)).map((e) => ({ ...e, stream: e.stream.replace(`room-${run}`, 'room-') }));
        },
      }
    : {};
  const metadata: Partial<KeepsStreamMetadata> = keepsStreamMetadata(inner)
    ? {
        setStreamRetention: (stream: string, retention: StreamRetention) => inner.setStreamRetention(toInner(stream), retention),
        streamRetention: (stream: string) => inner.streamRetention(toInner(stream)),
      }
    : {};
  return { ...port, ...deleting, ...metadata } as EventStore & RetentionOf<S>;
}
