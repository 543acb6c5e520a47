import { createMemoryEventStore } from '../../src/eventStore/memoryEventStore.js';
import { deletesOldEventsContract } from './deletesOldEvents.contract.js';
import { eventStoreContract } from './eventStore.contract.js';
import { keepsStreamMetadataContract } from './keepsStreamMetadata.contract.js';

// By default the memory store forgets by stream metadata, as EventStoreDB does.
const streamMetadata = async () => ({ store: createMemoryEventStore(), cleanup: async () => undefined });
eventStoreContract('memory', streamMetadata, { persistent: false, retention: ['keepsStreamMetadata'] });
keepsStreamMetadataContract('memory', streamMetadata);

// Or, by option, it deletes old events as SQLite does: the port's guarantees hold either way.
const deleting = async () => ({ store: createMemoryEventStore({ retention: 'deleteOldEvents' }), cleanup: async () => undefined });
eventStoreContract('memory, deleting old events', deleting, { persistent: false, retention: ['deletesOldEvents'] });
deletesOldEventsContract('memory', deleting);
