import { createMemoryEventStore } from '../../src/eventStore/memoryEventStore.js';
import { eventStoreContract } from './eventStore.contract.js';

eventStoreContract('memory', async () => ({
  store: createMemoryEventStore(),
  cleanup: async () => undefined,
}), { persistent: false, streamRetention: true });
