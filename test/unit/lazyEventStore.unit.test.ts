import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../../src/eventStore/memoryEventStore.js';
import type { EventStore } from '../../src/eventStore/eventStore.js';
import { lazyEventStore } from '../../src/eventStore/lazyEventStore.js';
import { keepsStreamMetadata } from '../../src/eventStore/retentionCapabilities.js';

function counted() {
  const loads = { count: 0 };
  const store = lazyEventStore(async () => {
    loads.count++;
    return createMemoryEventStore();
  }, ['setStreamRetention']);
  return { store, loads };
}

describe('lazyEventStore', () => {
  it('loads the adapter at the first call, once', async () => {
    const { store, loads } = counted();
    expect(loads.count).toBe(0);
    await Promise.all([store.headPosition(), store.streamRevision('room-a')]);
    await store.append('room-a', [{ id: 'e1', type: 'T', data: {} }], { expectedRevision: 0 });
    expect(loads.count).toBe(1);
    expect(await store.streamRevision('room-a')).toBe(1);
  });

  it('closes without loading a store that was never used', async () => {
    const { store, loads } = counted();
    await store.close();
    expect(loads.count).toBe(0);
  });

  it('shows the capabilities it was given to the retention type guards', () => {
    expect(keepsStreamMetadata(counted().store)).toBe(true);
  });

  it('a subscription closed before the adapter loaded never starts', async () => {
    const { store } = counted();
    const seen: string[] = [];
    const subscription = store.subscribeToAll({ afterPosition: 0, onEvent: (event) => void seen.push(event.id) });
    await subscription.close();
    await store.append('room-a', [{ id: 'e1', type: 'T', data: {} }], { expectedRevision: 0 });
    // A control opened after it gets the event: by then the closed one would have had it too.
    const control: string[] = [];
    const open = store.subscribeToAll({ afterPosition: 0, onEvent: (event) => void control.push(event.id) });
    await expect.poll(() => control).toEqual(['e1']);
    await open.close();
    expect(seen).toEqual([]);
  });

  it('a subscription opened before the adapter loaded delivers once it has', async () => {
    const { store } = counted();
    const seen: string[] = [];
    const subscription = store.subscribeToAll({ afterPosition: 0, onEvent: (event) => void seen.push(event.id) });
    await store.append('room-a', [{ id: 'e1', type: 'T', data: {} }], { expectedRevision: 0 });
    await expect.poll(() => seen).toEqual(['e1']);
    await subscription.close();
  });

  it('a load that fails rejects the calls and reaches a subscription as its error', async () => {
    const store = lazyEventStore<EventStore>(async () => {
      throw new Error('no such module');
    }, []);
    await expect(store.headPosition()).rejects.toThrow('no such module');
    const errors: unknown[] = [];
    store.subscribeToAll({ afterPosition: 0, onEvent: () => {}, onError: (error) => void errors.push(error) });
    await expect.poll(() => errors.length).toBe(1);
  });
});
