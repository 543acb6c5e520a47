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
