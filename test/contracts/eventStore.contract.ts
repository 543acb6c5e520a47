import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DuplicateEventIdError,
  WrongExpectedRevisionError,
  type AllSubscription,
  type EventStore,
  type NewEvent,
  type StoredEvent,
} from '../../src/eventStore/eventStore.js';
import { deletesOldEvents, keepsStreamMetadata } from '../../src/eventStore/retentionCapabilities.js';

export interface EventStoreFixture<S extends EventStore = EventStore> {
  store: S;
  /** Opens the same backing storage again (after `store` is closed), for backends that persist. */
  reopen?: () => Promise<S>;
  /** Removes what the factory created. The suite closes every store it was handed or reopened. */
  cleanup: () => Promise<void>;
}

/** A retention capability an adapter may declare (src/eventStore/retentionCapabilities.ts). */
export type RetentionCapability = 'deletesOldEvents' | 'keepsStreamMetadata';

/**
 * What a store does with event ids it already holds (the port's doc comment says which store does
 * which): `uniqueStoreWide` (memory, SQLite) refuses any known id with DuplicateEventIdError;
 * `repeatIsIdempotent` (EventStoreDB) only answers a repeated append (same ids at the same
 * expected revision) with the original revisions, and checks nothing else.
 */
export type EventIdGuarantee = 'uniqueStoreWide' | 'repeatIsIdempotent';

/**
 * The guarantees documented on the EventStore port, run against one adapter. Its retention
 * capabilities have suites of their own (deletesOldEvents.contract.ts, keepsStreamMetadata.contract.ts);
 * this one only checks that the adapter declares exactly the ones it is said to have.
 */
export function eventStoreContract(
  name: string,
  create: () => Promise<EventStoreFixture>,
  options: {
    /** Whether the backend keeps its events when closed and opened again (the fixture gives `reopen`). */
    persistent: boolean;
    retention: readonly RetentionCapability[];
    /** Defaults to `uniqueStoreWide`. */
    eventIds?: EventIdGuarantee;
  },
): void {
  const storeWide = (options.eventIds ?? 'uniqueStoreWide') === 'uniqueStoreWide';
  describe(`EventStore contract: ${name}`, () => {
    let fixture: EventStoreFixture;
    let store: EventStore;
    const opened: EventStore[] = [];
    let nextId = 0;
    const event = (type = 'MessagePosted', data: unknown = { n: nextId }): NewEvent => ({
      id: `evt-${++nextId}`,
      type,
      data,
    });

    beforeEach(async () => {
      fixture = await create();
      store = fixture.store;
      opened.push(store);
    });

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await fixture.cleanup();
    });

    describe('append', () => {
      it('numbers a stream 1..n and returns what it stored', async () => {
        const before = Date.now();
        const first = await store.append('room-a', [event('RoomCreated', { title: 'hi' })], { expectedRevision: 0 });
        const second = await store.append('room-a', [event(), event()], { expectedRevision: 1 });

        expect(first.revision).toBe(1);
        expect(first.events[0]).toMatchObject({ type: 'RoomCreated', data: { title: 'hi' }, stream: 'room-a', revision: 1 });
        expect(first.events[0]?.createdAt).toBeGreaterThanOrEqual(before);
        expect(second.revision).toBe(3);
        expect(second.events.map((e) => e.revision)).toEqual([2, 3]);
        expect(second.position).toBe(second.events[1]?.position);
        expect(await store.streamRevision('room-a')).toBe(3);
        expect(await store.readStream('room-a')).toEqual([...first.events, ...second.events]);
      });

      it('accepts expectedRevision 0 only for a new stream', async () => {
        await store.append('room-a', [event()], { expectedRevision: 0 });
        const error = await store.append('room-a', [event()], { expectedRevision: 0 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ stream: 'room-a', expected: 0, actual: 1 });
      });

      it('rejects a wrong expected revision and stores nothing', async () => {
        await store.append('room-a', [event(), event()], { expectedRevision: 0 });
        const head = await store.headPosition();
        for (const expectedRevision of [1, 3]) {
          const error = await store.append('room-a', [event()], { expectedRevision }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(WrongExpectedRevisionError);
          expect(error).toMatchObject({ stream: 'room-a', expected: expectedRevision, actual: 2 });
        }
        const missing = await store.append('room-b', [event()], { expectedRevision: 5 }).catch((e: unknown) => e);
        expect(missing).toMatchObject({ stream: 'room-b', expected: 5, actual: 0 });
        expect(await store.streamRevision('room-a')).toBe(2);
        expect(await store.streamRevision('room-b')).toBe(0);
        expect(await store.headPosition()).toBe(head);
        expect(await store.append('room-a', [event()], { expectedRevision: 2 })).toMatchObject({ revision: 3 });
      });

      it("skips the check with 'any'", async () => {
        expect(await store.append('room-a', [event()], { expectedRevision: 'any' })).toMatchObject({ revision: 1 });
        expect(await store.append('room-a', [event()], { expectedRevision: 'any' })).toMatchObject({ revision: 2 });
      });

      it('stores a multi-event append as one contiguous block', async () => {
        await store.append('room-b', [event()], { expectedRevision: 0 });
        const result = await store.append('room-a', [event(), event(), event()], { expectedRevision: 0 });
        await store.append('room-b', [event()], { expectedRevision: 1 });
        expect(result.events.map((e) => e.revision)).toEqual([1, 2, 3]);
        // Positions need not be dense (EventStoreDB's are not), only adjacent in the global order.
        const all = await store.readAll();
        expect(all.slice(1, 4)).toEqual(result.events);
      });

      // Every store: a repeated append (a resend racing its original) never stores its events twice.
      it('stores a repeated append (same ids, same expected revision) once', async () => {
        const sent = [event(), event()];
        const original = await store.append('room-a', sent, { expectedRevision: 0 });
        const repeat = await store.append('room-a', sent, { expectedRevision: 0 }).catch((e: unknown) => e);
        if (repeat instanceof DuplicateEventIdError) expect(repeat.eventId).toBe(sent[0]!.id);
        else expect(repeat).toMatchObject({ revision: original.revision, events: original.events });
        expect(await store.readStream('room-a')).toEqual(original.events);
      });

      if (storeWide) {
        it('rejects an event id already stored, in the same or another stream, storing nothing', async () => {
          const stored = event();
          await store.append('room-a', [stored], { expectedRevision: 0 });
          for (const [stream, expectedRevision] of [['room-a', 1], ['room-b', 0]] as const) {
            const error = await store.append(stream, [event(), stored], { expectedRevision }).catch((e: unknown) => e);
            expect(error).toBeInstanceOf(DuplicateEventIdError);
            expect(error).toMatchObject({ eventId: stored.id });
          }
          expect(await store.streamRevision('room-a')).toBe(1);
          expect(await store.readStream('room-b')).toEqual([]);
          expect(await store.readAll()).toHaveLength(1);
        });

        it('rejects an id repeated within one append', async () => {
          const twice = event();
          const error = await store.append('room-a', [twice, twice], { expectedRevision: 0 }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(DuplicateEventIdError);
          expect(await store.headPosition()).toBe(0);
        });

        it('reports a resend as a duplicate even though its expected revision is now stale', async () => {
          const sent = [event(), event()];
          await store.append('room-a', sent, { expectedRevision: 0 });
          const resend = await store.append('room-a', sent, { expectedRevision: 0 }).catch((e: unknown) => e);
          expect(resend).toBeInstanceOf(DuplicateEventIdError);
        });
      } else {
        it('answers a repeated append with the original revisions, and checks ids nowhere else', async () => {
          const sent = [event(), event()];
          const original = await store.append('room-a', sent, { expectedRevision: 0 });
          expect(await store.append('room-a', sent, { expectedRevision: 0 })).toMatchObject({ revision: 2, events: original.events });
          // Not a repeat (the expectation holds) or another stream: stored, known id or not.
          expect(await store.append('room-b', [sent[0]!], { expectedRevision: 0 })).toMatchObject({ revision: 1 });
          expect(await store.append('room-a', [sent[1]!], { expectedRevision: 2 })).toMatchObject({ revision: 3 });
        });
      }

      it('lets exactly one of several racing appends with the same expectation win', async () => {
        await store.append('room-a', [event()], { expectedRevision: 0 });
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, () => store.append('room-a', [event()], { expectedRevision: 1 })),
        );
        const losers = results.filter((r) => r.status === 'rejected');
        expect(results.length - losers.length).toBe(1);
        for (const loser of losers) expect(loser.reason).toBeInstanceOf(WrongExpectedRevisionError);
        expect(await store.streamRevision('room-a')).toBe(2);
      });
    });

    describe('reading', () => {
      async function fiveInRoomA(): Promise<StoredEvent[]> {
        return (await store.append('room-a', [event(), event(), event(), event(), event()], { expectedRevision: 0 })).events;
      }
      const revisions = (events: StoredEvent[]) => events.map((e) => e.revision);

      it('reads a stream forwards and backwards, from a revision, up to a limit', async () => {
        await fiveInRoomA();
        expect(revisions(await store.readStream('room-a'))).toEqual([1, 2, 3, 4, 5]);
        expect(revisions(await store.readStream('room-a', { fromRevision: 3 }))).toEqual([3, 4, 5]);
        expect(revisions(await store.readStream('room-a', { fromRevision: 2, limit: 2 }))).toEqual([2, 3]);
        expect(revisions(await store.readStream('room-a', { fromRevision: 6 }))).toEqual([]);
        expect(revisions(await store.readStream('room-a', { direction: 'backwards' }))).toEqual([5, 4, 3, 2, 1]);
        expect(revisions(await store.readStream('room-a', { direction: 'backwards', limit: 2 }))).toEqual([5, 4]);
        expect(revisions(await store.readStream('room-a', { direction: 'backwards', fromRevision: 3 }))).toEqual([3, 2, 1]);
        expect(
          revisions(await store.readStream('room-a', { direction: 'backwards', fromRevision: 4, limit: 2 })),
        ).toEqual([4, 3]);
      });

      it('reads a missing stream as empty', async () => {
        expect(await store.readStream('room-nowhere')).toEqual([]);
        expect(await store.readStream('room-nowhere', { direction: 'backwards' })).toEqual([]);
        expect(await store.streamRevision('room-nowhere')).toBe(0);
      });

      it('reads all streams in strictly increasing position, after a position, up to a limit', async () => {
        expect(await store.headPosition()).toBe(0);
        expect(await store.readAll()).toEqual([]);
        for (let i = 0; i < 4; i++) {
          await store.append('room-a', [event()], { expectedRevision: 'any' });
          await store.append('room-b', [event(), event()], { expectedRevision: 'any' });
        }
        const all = await store.readAll();
        expect(all).toHaveLength(12);
        for (let i = 1; i < all.length; i++) {
          expect(all[i]?.position).toBeGreaterThan(all[i - 1]?.position ?? Infinity);
        }
        expect(await store.headPosition()).toBe(all[11]?.position);
        const third = all[2]?.position ?? 0;
        expect(await store.readAll({ afterPosition: third })).toEqual(all.slice(3));
        expect(await store.readAll({ afterPosition: third, limit: 4 })).toEqual(all.slice(3, 7));
        expect(await store.readAll({ afterPosition: await store.headPosition() })).toEqual([]);
      });
    });

    it(`declares its retention capabilities: ${options.retention.join(', ') || 'none'}`, () => {
      expect({ deletesOldEvents: deletesOldEvents(store), keepsStreamMetadata: keepsStreamMetadata(store) }).toEqual({
        deletesOldEvents: options.retention.includes('deletesOldEvents'),
        keepsStreamMetadata: options.retention.includes('keepsStreamMetadata'),
      });
    });

    describe('subscribeToAll', () => {
      function subscribe(afterPosition: number, onEvent?: (e: StoredEvent) => Promise<void>) {
        const received: StoredEvent[] = [];
        const errors: unknown[] = [];
        const subscription: AllSubscription = store.subscribeToAll({
          afterPosition,
          onEvent: async (e) => {
            received.push(e);
            await onEvent?.(e);
          },
          onError: (error) => errors.push(error),
        });
        return { received, errors, subscription };
      }

      it('catches up, then delivers live appends', async () => {
        const before = (await store.append('room-a', [event(), event(), event()], { expectedRevision: 0 })).events;
        const { received, subscription } = subscribe(0);
        await until(() => received.length === 3);
        const live = (await store.append('room-b', [event(), event()], { expectedRevision: 0 })).events;
        await until(() => received.length === 5);
        expect(received).toEqual([...before, ...live]);
        await subscription.close();
      });

      it('starts after the given position, exclusive', async () => {
        const stored = (await store.append('room-a', [event(), event(), event(), event()], { expectedRevision: 0 })).events;
        const { received, subscription } = subscribe(stored[1]?.position ?? 0);
        await until(() => received.length === 2);
        await delay(50);
        expect(received).toEqual(stored.slice(2));
        await subscription.close();
      });

      it('catches up across many events, in order', async () => {
        // More than one page for adapters that catch up in pages (SQLite reads 1000 rows at a time).
        const many = Array.from({ length: 2500 }, () => event());
        await store.append('room-a', many, { expectedRevision: 0 });
        const { received, subscription } = subscribe(0);
        await until(() => received.length >= 2500);
        expect(received.map((e) => e.id)).toEqual(many.map((e) => e.id));
        await subscription.close();
      });

      it('neither skips nor repeats at the catch-up/live seam while appends go on', async () => {
        for (let i = 0; i < 30; i++) await store.append(`room-${i % 3}`, [event()], { expectedRevision: 'any' });
        // A handler that yields now and then makes catch-up overlap with the appends below.
        const { received, subscription } = subscribe(0, (e) => (e.position % 7 === 0 ? delay(1) : Promise.resolve()));
        for (let i = 0; i < 60; i++) {
          await store.append(`room-${i % 3}`, [event(), event()], { expectedRevision: 'any' });
          if (i % 10 === 0) await delay(2);
        }
        await until(() => received.length >= 150);
        await delay(50);
        expect(received).toEqual(await store.readAll());
        await subscription.close();
      });

      it('awaits onEvent, one call at a time', async () => {
        let running = 0;
        let most = 0;
        const { received, subscription } = subscribe(0, async () => {
          most = Math.max(most, ++running);
          await delay(5);
          running--;
        });
        for (let i = 0; i < 5; i++) await store.append('room-a', [event(), event()], { expectedRevision: 'any' });
        await until(() => received.length === 10 && running === 0);
        expect(most).toBe(1);
        await subscription.close();
      });

      it('stops delivering on close, which waits for the running onEvent', async () => {
        let release!: () => void;
        const blocked = new Promise<void>((resolve) => (release = resolve));
        const { received, subscription } = subscribe(0, () => blocked);
        await store.append('room-a', [event()], { expectedRevision: 0 });
        await until(() => received.length === 1);

        let closed = false;
        const closing = subscription.close().then(() => (closed = true));
        await delay(20);
        expect(closed).toBe(false);
        release();
        await closing;

        await store.append('room-a', [event(), event()], { expectedRevision: 1 });
        await delay(250);
        expect(received).toHaveLength(1);
      });

      it('stops and reports to onError when onEvent throws', async () => {
        const failure = new Error('projection failed');
        const { received, errors, subscription } = subscribe(0, () => Promise.reject(failure));
        await store.append('room-a', [event(), event()], { expectedRevision: 0 });
        await until(() => errors.length === 1);
        await store.append('room-a', [event()], { expectedRevision: 2 });
        await delay(150);
        expect(errors).toEqual([failure]);
        expect(received).toHaveLength(1);
        await subscription.close();
      });

      it('is stopped by closing the store', async () => {
        const { received } = subscribe(0);
        await store.append('room-a', [event()], { expectedRevision: 0 });
        await until(() => received.length === 1);
        expect(await store.ping()).toBe(true);
        await store.close();
        expect(await store.ping()).toBe(false);
      });
    });

    // Only for backends that persist: the memory store, by design, keeps nothing across a reopen.
    if (options.persistent) it('keeps everything across a reopen', async () => {
      if (!fixture.reopen) throw new Error(`${name} is declared persistent but its fixture gives no reopen`);
      await store.append('room-a', [event('RoomCreated', { title: 'ok', at: [1, 2] }), event()], { expectedRevision: 0 });
      await store.append('room-b', [event()], { expectedRevision: 0 });
      const before = await store.readAll();
      await store.close();

      const reopened = await fixture.reopen();
      opened.push(reopened);
      expect(await reopened.readAll()).toEqual(before);
      expect(await reopened.headPosition()).toBe(before[2]?.position);
      const next = await reopened.append('room-a', [event()], { expectedRevision: 2 });
      expect(next.revision).toBe(3);
      expect(next.position).toBeGreaterThan(before[2]?.position ?? Infinity);
      if (storeWide) {
        const again: NewEvent = { id: before[0]?.id ?? '', type: 'RoomCreated', data: {} };
        const duplicate = await reopened.append('room-c', [again], { expectedRevision: 0 }).catch((e: unknown) => e);
        expect(duplicate).toBeInstanceOf(DuplicateEventIdError);
      }
    });
  });
}

/** Polls until `condition` holds; fails with a timeout rather than hanging the test. */
export async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await delay(5);
  }
}
