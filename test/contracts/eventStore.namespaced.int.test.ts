import { createMemoryEventStore } from '../../src/eventStore/memoryEventStore.js';
import { deletesOldEventsContract } from './deletesOldEvents.contract.js';
import { eventStoreContract } from './eventStore.contract.js';
import { keepsStreamMetadataContract } from './keepsStreamMetadata.contract.js';
import { namespacedStore } from './namespacedStore.js';

// Proves the wrapper the EventStoreDB run relies on changes nothing the contract can see.
const namespaced = async () => ({ store: namespacedStore(createMemoryEventStore(), 'run1'), cleanup: async () => {} });
eventStoreContract('memory, namespaced as for a shared server', namespaced, { persistent: false, retention: ['keepsStreamMetadata'] });
keepsStreamMetadataContract('memory, namespaced as for a shared server', namespaced);
// It passes the other capability on just as faithfully.
deletesOldEventsContract('memory, namespaced as for a shared server', async () => ({
  store: namespacedStore(createMemoryEventStore({ retention: 'deleteOldEvents' }), 'run1'),
  cleanup: async () => {},
}));

// On a USED shared server (what the EventStoreDB run meets): other runs' rooms are there before
// the test and keep being written during it, interleaved with this run's events.
function busyMemoryStore() {
  const inner = createMemoryEventStore();
  let other = 0;
  const elsewhere = () => inner.append('room-elsewhere', [{ id: `other-${++other}`, type: 'MessagePosted', data: {} }], { expectedRevision: 'any' });
  const ready = (async () => {
    for (let i = 0; i < 1_200; i++) await elsewhere();
  })();
  const busy: typeof inner = {
    ...inner,
    async append(stream, events, options) {
      await ready;
      const result = await inner.append(stream, events, options);
      await elsewhere();
      return result;
    },
  };
  return { store: busy, ready };
}
const onUsedStore = async () => {
  const { store, ready } = busyMemoryStore();
  await ready;
  return { store: namespacedStore(store, 'run1'), cleanup: async () => {} };
};
eventStoreContract('memory, namespaced, on a store other runs keep writing', onUsedStore, { persistent: false, retention: ['keepsStreamMetadata'] });
keepsStreamMetadataContract('memory, namespaced, on a store other runs keep writing', onUsedStore);
