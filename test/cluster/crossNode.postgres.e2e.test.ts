/**
 * The three-node chat tests (threeNodesOneChat.ts) with the nodes on PostgreSQL as the event store,
 * in a schema of their own on 127.0.0.1:5432, dropped afterwards: cross-node delivery in order and
 * exactly once, and 3 × 100 concurrent sends from three nodes into one room getting gap-free,
 * unique seqs through PostgreSQL's revision check.
 */
import { afterAll, beforeAll } from 'vitest';
import { killAllNodes } from '../support/nodeProcess.js';
import { assertPostgresReachable, dropSchema, freshSchemaName, postgresUrl } from '../support/postgres.js';
import { stopAllRedis } from '../support/redisServer.js';
import { describeThreeNodesOneChat } from './threeNodesOneChat.js';

const schema = freshSchemaName('cross');

beforeAll(assertPostgresReachable);
afterAll(async () => {
  await killAllNodes();
  await stopAllRedis();
  await dropSchema(schema);
});

describeThreeNodesOneChat('three nodes on PostgreSQL, one chat', () => ({ EVENT_STORE: postgresUrl(schema) }));
