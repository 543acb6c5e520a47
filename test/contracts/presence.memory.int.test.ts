import { createMemoryPresenceStore } from '../../src/presence/memoryPresenceStore.js';
import { presenceContract } from './presence.contract.js';

presenceContract('memory', async () => {
  const store = createMemoryPresenceStore({ typingTtlMs: 300, tickMs: 50 });
  return { store, cleanup: () => store.close() };
});
