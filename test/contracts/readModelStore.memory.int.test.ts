import { createMemoryReadModelStore } from '../../src/readModels/memoryReadModelStore.js';
import { readModelStoreContract } from './readModelStore.contract.js';

readModelStoreContract('memory', async () => {
  const store = createMemoryReadModelStore();
  return { store, cleanup: () => store.close() };
});
