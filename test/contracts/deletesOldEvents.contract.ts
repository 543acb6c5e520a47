import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore, NewEvent, StoredEvent } from '../../src/eventStore/eventStore.js';
import type { DeletesOldEvents, RetentionScanEntry } from '../../src/eventStore/retentionCapabilities.js';
import { until, type EventStoreFixture } from './eventStore.contract.js';

/**
 * What DeletesOldEvents guarantees (src/eventStore/retentionCapabilities.ts), run against one
 * adapter that declares it: exactly the events asked for go, at once and from every read, and
 * nothing else moves (revisions, positions, the stream's revision, the store's head).
 */
export function deletesOldEventsContract(
  name: string,
  create: () => Promise<EventStoreFixture<EventStore & DeletesOldEvents>>,
): void {
  describe(`DeletesOldEvents contract: ${name}`, () => {
    let fixture: EventStoreFixture<EventStore & DeletesOldEvents>;
    let store: EventStore & DeletesOldEvents;
    const byStream = (entries: RetentionScanEntry[]) => entries.sort((x, y) => x.stream.localeCompare(y.stream));
    const at = (id: string, type: string, createdAt: number): NewEvent => ({ id, type, data: {}, createdAt });

    beforeEach(async () => {
      fixture = await create();
      store = fixture.store;
    });

    afterEach(async () => {
      await store.close();
      await fixture.cleanup();
    });

    it('removes only the given types below the revision, never a stream’s last event nor the store’s newest', async () => {
      const types = ['Keep', 'Msg', 'Msg', 'Msg', 'Keep', 'Msg'];
      await store.append('room-a', types.map((type, i) => ({ id: `a${i}`, type, data: { i } })), { expectedRevision: 0 });
      await store.append('room-b', [{ id: 'b0', type: 'Msg', data: {} }], { expectedRevision: 0 });
      const scan = await store.retentionScan({ prefix: 'room-', since: 0 });
      expect(byStream(scan)).toEqual([
        { stream: 'room-a', head: 6, firstSince: 1 },
        { stream: 'room-b', head: 1, firstSince: 1 },
      ]);
      expect(await store.trimStream('room-a', { beforeRevision: 10, types: ['Msg'] })).toBe(3);
      expect((await store.readStream('room-a')).map((e) => [e.revision, e.type])).toEqual([
        [1, 'Keep'],
        [5, 'Keep'],
        [6, 'Msg'],
      ]);
      expect(await store.streamRevision('room-a')).toBe(6);
      // room-b's only event is both its last and the store's newest: it stays.
      expect(await store.trimStream('room-b', { beforeRevision: 10, types: ['Msg'] })).toBe(0);
      const next = await store.append('room-a', [{ id: 'a6', type: 'Msg', data: {} }], { expectedRevision: 6 });
      expect(next.revision).toBe(7);
    });

    it('scans the streams under the prefix: their head, and where the events since a time begin', async () => {
      await store.append('room-a', [at('a1', 'Msg', 10), at('a2', 'Msg', 20), at('a3', 'Msg', 30), at('a4', 'Msg', 40)], { expectedRevision: 0 });
      await store.append('room-ab', [at('ab1', 'Msg', 50)], { expectedRevision: 0 });
      await store.append('room-b', [at('b1', 'Msg', 5)], { expectedRevision: 0 });
      expect(byStream(await store.retentionScan({ prefix: 'room-a', since: 25 }))).toEqual([
        { stream: 'room-a', head: 4, firstSince: 3 },
        { stream: 'room-ab', head: 1, firstSince: 1 },
      ]);
      expect(byStream(await store.retentionScan({ prefix: 'room-a', since: 100 }))).toEqual([
        { stream: 'room-a', head: 4, firstSince: null },
        { stream: 'room-ab', head: 1, firstSince: null },
      ]);
      // After a trim the scan sees what remains; the head stays where it was.
      expect(await store.trimStream('room-a', { beforeRevision: 3, types: ['Msg'] })).toBe(2);
      expect(byStream(await store.retentionScan({ prefix: 'room-a', since: 0 }))[0]).toEqual({ stream: 'room-a', head: 4, firstSince: 3 });
    });

    it('leaves what remains where it was: revisions, positions, the head, and every read skips the deleted', async () => {
      await store.append('room-a', ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((id) => at(id, 'Msg', 1)), { expectedRevision: 0 });
      await store.append('room-b', [at('b1', 'Msg', 1)], { expectedRevision: 0 });
      const before = await store.readAll();
      const head = await store.headPosition();
      expect(await store.trimStream('room-a', { beforeRevision: 4, types: ['Msg'] })).toBe(3);

      const revisions = (events: StoredEvent[]) => events.map((e) => e.revision);
      expect(revisions(await store.readStream('room-a'))).toEqual([4, 5, 6]);
      expect(revisions(await store.readStream('room-a', { fromRevision: 2, limit: 1 }))).toEqual([4]);
      expect(revisions(await store.readStream('room-a', { direction: 'backwards', limit: 2 }))).toEqual([6, 5]);
      expect(revisions(await store.readStream('room-a', { direction: 'backwards', fromRevision: 3 }))).toEqual([]);
      const remaining = before.filter((e) => e.stream !== 'room-a' || e.revision >= 4);
      expect(await store.readAll()).toEqual(remaining);
      expect(await store.readAll({ afterPosition: before[0]!.position, limit: 2 })).toEqual(remaining.slice(0, 2));
      expect(await store.headPosition()).toBe(head);

      const received: StoredEvent[] = [];
      const subscription = store.subscribeToAll({ afterPosition: 0, onEvent: (e) => void received.push(e) });
      await until(() => received.length === remaining.length);
      expect(received).toEqual(remaining);
      await subscription.close();
    });
  });
}
