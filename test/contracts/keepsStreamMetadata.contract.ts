import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore, NewEvent, StoredEvent } from '../../src/eventStore/eventStore.js';
import type { KeepsStreamMetadata } from '../../src/eventStore/retentionCapabilities.js';
import type { EventStoreFixture } from './eventStore.contract.js';

/**
 * What KeepsStreamMetadata guarantees (src/eventStore/retentionCapabilities.ts), run against one
 * adapter that declares it: reads return only what the settings keep, with their revisions, and
 * the stream's revision is never touched, so appends go on with the same expectations.
 */
export function keepsStreamMetadataContract(
  name: string,
  create: () => Promise<EventStoreFixture<EventStore & KeepsStreamMetadata>>,
): void {
  describe(`KeepsStreamMetadata contract: ${name}`, () => {
    let fixture: EventStoreFixture<EventStore & KeepsStreamMetadata>;
    let store: EventStore & KeepsStreamMetadata;
    let nextId = 0;
    const event = (): NewEvent => ({ id: `meta-${++nextId}`, type: 'MessagePosted', data: { n: nextId } });
    const revisions = (events: StoredEvent[]) => events.map((e) => e.revision);
    const tenInRoomA = () => store.append('room-a', Array.from({ length: 10 }, () => event()), { expectedRevision: 0 });

    beforeEach(async () => {
      fixture = await create();
      store = fixture.store;
    });

    afterEach(async () => {
      await store.close();
      await fixture.cleanup();
    });

    it('by count: reads return only the newest maxCount, with their revisions, as more arrive', async () => {
      await tenInRoomA();
      await store.setStreamRetention('room-a', { maxCount: 3 });
      expect(revisions(await store.readStream('room-a'))).toEqual([8, 9, 10]);
      expect(revisions(await store.readStream('room-a', { fromRevision: 2, limit: 2 }))).toEqual([8, 9]);
      expect(revisions(await store.readStream('room-a', { direction: 'backwards' }))).toEqual([10, 9, 8]);
      expect(await store.streamRevision('room-a')).toBe(10);
      await store.append('room-a', [event(), event()], { expectedRevision: 10 });
      expect(revisions(await store.readStream('room-a'))).toEqual([10, 11, 12]);
    });

    it('by truncateBefore: reads start there, it never moves back, and the count setting is kept', async () => {
      await tenInRoomA();
      await store.setStreamRetention('room-a', { truncateBefore: 6 });
      expect(revisions(await store.readStream('room-a'))).toEqual([6, 7, 8, 9, 10]);
      await store.setStreamRetention('room-a', { truncateBefore: 4 });
      expect(revisions(await store.readStream('room-a'))).toEqual([6, 7, 8, 9, 10]);
      await store.setStreamRetention('room-a', { maxCount: 2 });
      expect(revisions(await store.readStream('room-a'))).toEqual([9, 10]);
      await store.setStreamRetention('room-a', { truncateBefore: 7 });
      expect(revisions(await store.readStream('room-a'))).toEqual([9, 10]);
      expect(revisions(await store.readStream('room-b'))).toEqual([]);
      await store.append('room-a', [event()], { expectedRevision: 10 });
    });

    it('reports the settings the stream has now, whoever set them', async () => {
      await tenInRoomA();
      expect(await store.streamRetention('room-a')).toEqual({ maxCount: null });
      await store.setStreamRetention('room-a', { maxCount: 4, truncateBefore: 3 });
      expect(await store.streamRetention('room-a')).toEqual({ maxCount: 4, truncateBefore: 3 });
      await store.setStreamRetention('room-a', { maxCount: null });
      expect(await store.streamRetention('room-a')).toEqual({ maxCount: null, truncateBefore: 3 });
      expect(await store.streamRetention('room-b')).toEqual({ maxCount: null });
    });
  });
}
