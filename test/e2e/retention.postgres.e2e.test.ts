/**
 * Retention by count (retentionByCount.ts) with the node on PostgreSQL, in a schema of its own,
 * dropped afterwards: the retention job finds the room with retentionScan and deletes its old
 * messages with trimStream, and the room, its seqs and its members live on across a restart.
 */
import { afterAll, beforeAll } from 'vitest';
import { killAllNodes } from '../support/nodeProcess.js';
import { assertPostgresReachable, dropSchema, freshSchemaName, postgresUrl } from '../support/postgres.js';
import { describeRetentionByCount } from './retentionByCount.js';

const schema = freshSchemaName('retention');

beforeAll(assertPostgresReachable);
afterAll(async () => {
  await killAllNodes();
  await dropSchema(schema);
});

describeRetentionByCount('retention on PostgreSQL', () => ({ EVENT_STORE: postgresUrl(schema) }));
