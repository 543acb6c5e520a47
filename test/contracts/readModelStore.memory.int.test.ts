import { createMemoryReadModelStore } from '../../src/readModels/memoryReadModelStore.js';
import { readModelStoreContract } from './readModelStore.contract.js';

readModelStoreContract('memory', async () => {
  const store = createMemoryReadModelStore();
  // Memory read models only go with the process; losing them is what clear() does.
  return { store, lose: () => store.clear(), cleanup: () => store.close() };
});
