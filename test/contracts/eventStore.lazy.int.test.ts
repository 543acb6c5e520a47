import { createMemoryEventStore } from '../../src/eventStore/memoryEventStore.js';
import { lazyEventStore } from '../../src/eventStore/lazyEventStore.js';
import { eventStoreContract } from './eventStore.contract.js';
import { keepsStreamMetadataContract } from './keepsStreamMetadata.contract.js';

// The wrapper that imports an adapter at first use (how a node opens EventStoreDB) keeps the port's
// guarantees and the adapter's retention capability: here over the memory store.
const lazy = async () => ({
  store: lazyEventStore(async () => createMemoryEventStore(), ['setStreamRetention', 'streamRetention']),
  cleanup: async () => undefined,
});
eventStoreContract('lazily loaded (memory)', lazy, { persistent: false, retention: ['keepsStreamMetadata'] });
keepsStreamMetadataContract('lazily loaded (memory)', lazy);
