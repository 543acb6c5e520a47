import { deterministicUuid } from '../../src/domain/ids.js';
import type { EventStore, StoredEvent, StreamRetention } from '../../src/eventStore/eventStore.js';

/**
 * Runs the contract against a SHARED server (EventStoreDB) without seeing other runs: stream
 * `room-a` becomes `room-<run>a`, event ids become UUIDs derived from (run, id) as ESDB requires,
 * and reads see only this run's streams, mapped back. Checked against the memory store too
 * (eventStore.namespaced.int.test.ts), so the wrapper itself is known to be faithful.
 */
export function namespacedStore(inner: EventStore, run: string): EventStore {
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
  return {
    async append(stream, events, options) {
      const result = await inner.append(toInner(stream), events.map((e) => ({ ...e, id: idIn(e.id) })), options).catch((error: unknown) => {
        if (error && typeof error === 'object') {
          const e = error as { stream?: string; eventId?: string };
          if (e.stream) e.stream = stream;
          if (e.eventId) e.eventId = idOut(e.eventId);
        }
        throw error;
      });
      return { ...result, events: result.events.map(out) };
    },
    async readStream(stream, options) {
      return (await inner.readStream(toInner(stream), options)).map(out);
    },
    streamRevision: (stream) => inner.streamRevision(toInner(stream)),
    async readAll(options) {
      return (await inner.readAll(options)).filter((e) => mine(e.stream)).map(out);
    },
    headPosition: () => inner.headPosition(),
    subscribeToAll({ afterPosition, onEvent, onError }) {
      return inner.subscribeToAll({ afterPosition, onError, onEvent: (e) => (mine(e.stream) ? onEvent(out(e)) : undefined) });
    },
    ...(inner.setStreamRetention
      ? { setStreamRetention: (stream: string, retention: StreamRetention) => inner.setStreamRetention!(toInner(stream), retention) }
      : {}),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}
