import { createMemoryEventStore } from '../../src/eventStore/memoryEventStore.js';
import { eventStoreContract } from './eventStore.contract.js';
import { namespacedStore } from './namespacedStore.js';

// Proves the wrapper the EventStoreDB run relies on changes nothing the contract can see.
eventStoreContract('memory, namespaced as for a shared server', async () => {
  const store = namespacedStore(createMemoryEventStore(), 'run1');
  return { store, cleanup: async () => {} };
}, { persistent: false, streamRetention: true });
