import { randomUUID } from 'node:crypto';
import { createEsdbEventStore } from '../../src/eventStore/esdbEventStore.js';
import { createFakeEsdbClient, createFakeEsdbServer, type FakeEsdbServer } from '../support/fakeEsdbClient.js';
import { eventStoreContract } from './eventStore.contract.js';
import { keepsStreamMetadataContract } from './keepsStreamMetadata.contract.js';
import { namespacedStore } from './namespacedStore.js';

/*
 * The whole event-store contract (and the retention capability the adapter declares) against the
 * EventStoreDB adapter on top of the faithful fake client (test/support/fakeEsdbClient.ts), run as
 * the real-server suite runs (eventStore.esdb.int.test.ts): namespaced, on ONE server shared by
 * every test, whose $all also holds system events, another application's streams, `$$` metadata
 * events and the earlier tests' rooms. So what this shows is also what the harness can show on a
 * used server.
 */
const server: FakeEsdbServer = createFakeEsdbServer();
const shared = async () => {
  // Someone else keeps writing between tests: foreign streams, system events, other runs' rooms.
  server.write(`orders-${randomUUID()}`, 'OrderPlaced', { total: 1 });
  server.write('$stats-127.0.0.1:2113', '$statsCollected', { cpu: 1 });
  server.write(`room-other${randomUUID().slice(0, 6)}`, 'MessagePosted', { n: 1 });
  const run = `t${randomUUID().slice(0, 8)}`;
  const store = namespacedStore(createEsdbEventStore({ client: createFakeEsdbClient({ server }), resubscribeDelayMs: 5 }), run);
  return { store, cleanup: async () => {} };
};
eventStoreContract('esdb on the faithful fake', shared, { persistent: false, retention: ['keepsStreamMetadata'], eventIds: 'repeatIsIdempotent' });
keepsStreamMetadataContract('esdb on the faithful fake', shared);
