/**
 * The chaos test (chaos.e2e.test.ts: 3 nodes, kill -9, a Redis restart, a SIGTERM) with the nodes
 * on PostgreSQL as the event store instead of one SQLite file, direct to the nodes: the same
 * checks (chaosCheck.ts):
 * nothing lost, duplicated or reordered, every acknowledged send in the log once, read models
 * equal to the log. Each run has a schema of its own on 127.0.0.1:5432, dropped afterwards; the
 * killed node's open transaction and LISTEN connection die with it, the replacement and the
 * surviving nodes go on through the same tables.
 *
 * Only the direct run: what the balancer adds does not depend on the store, and each run costs
 * about a minute of CI on two cores. The run through the balancer passes on PostgreSQL too
 * (checkChaos with `viaBalancer: true` and the same env); add it back here to see it.
 */
import { afterAll, beforeAll, it } from 'vitest';
import { killAllNodes } from '../support/nodeProcess.js';
import { assertPostgresReachable, dropSchema, freshSchemaName, postgresUrl } from '../support/postgres.js';
import { stopAllRedis } from '../support/redisServer.js';
import { TIMING, checkChaos } from './chaosCheck.js';

// Each run's body is bounded as the SQLite file's is (20 s of sending); the test's own limit is
// looser because every append there is a network round trip and a commit on a server that shares
// the two cores with the nodes and the clients.
const schemas: string[] = [];
/** The nodes' environment for one run: EVENT_STORE in a schema of its own. */
function onPostgres(): Record<string, string> {
  const schema = freshSchemaName('chaos');
  schemas.push(schema);
  return { EVENT_STORE: postgresUrl(schema) };
}

beforeAll(assertPostgresReachable);
afterAll(async () => {
  await killAllNodes();
  await stopAllRedis();
  for (const schema of schemas) await dropSchema(schema);
});

it('on PostgreSQL, direct to the nodes: 3 nodes, 60 clients, 1,200 messages through kill -9, a Redis restart and a SIGTERM: nothing lost, duplicated or reordered; read models match the log', { timeout: 100_000 }, async () => {
  await checkChaos('postgres, direct', { name: 'pc', viaBalancer: false, rooms: 6, clients: 60, perClient: 20, ...TIMING, env: onPostgres() });
});

