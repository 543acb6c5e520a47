/**
 * Moving a log from SQLite to PostgreSQL with the CLI (README, "PostgreSQL"): export from a
 * node's SQLite DATA_DIR, import into a fresh PostgreSQL schema, and a node on PostgreSQL answers
 * `roomEvents` exactly as the SQLite node did, for every room (a private one included).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPostgresEventStore } from '../../src/eventStore/postgresEventStore.js';
import { createSqliteEventStore } from '../../src/eventStore/sqliteEventStore.js';
import { createRoom, createUser, gql, joinRoom, readLog, sendMessage } from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import { freshDataDir, killAllNodes, repoRoot } from '../support/nodeProcess.js';
import { assertPostgresReachable, dropSchema, freshSchemaName, postgresUrl } from '../support/postgres.js';

const run = promisify(execFile);
const schema = freshSchemaName('cli');

beforeAll(assertPostgresReachable);
afterAll(async () => {
  await stopAllInProcessNodes();
  await killAllNodes(); // removes the freshDataDir directories
  await dropSchema(schema);
});

/** The CLI as a user runs it (`npm run cli -- …`). */
function cli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn' },
  });
}

it('export from SQLite, import into PostgreSQL: identical roomEvents, and a second import adds nothing', async () => {
  // Both nodes share the secret, so the same tokens read both.
  const env = { RATE_LIMIT_MESSAGES: '0', JWT_SECRET: randomBytes(32).toString('hex') };
  const sqliteNode = await startInProcessNode({ env });
  const ada = await createUser(sqliteNode.url, 'ada');
  const bob = await createUser(sqliteNode.url, 'bob');
  const rooms = [await createRoom(sqliteNode.url, ada.token, 'open'), await createRoom(sqliteNode.url, ada.token, 'closed', 'secret password')];
  await joinRoom(sqliteNode.url, bob.token, rooms[0]!.id);
  const sent = [];
  for (let i = 0; i < 30; i++) sent.push(await sendMessage(sqliteNode.url, i % 3 ? ada.token : bob.token, rooms[i % 3 ? i % 2 : 0]!.id, `message ${i} ✓`));
  await gql(sqliteNode.url, 'mutation($id: ID!) { editMessage(messageId: $id, body: "edited") { id } }', { id: sent[1]!.id }, ada.token);
  await gql(sqliteNode.url, 'mutation($id: ID!) { deleteMessage(messageId: $id) { id } }', { id: sent[2]!.id }, ada.token);
  const ids = rooms.map((room) => room.id);
  // One room at a time: reads of long lists are budgeted per user (src/limits).
  const readRooms = async (url: string) => {
    const logs = [];
    for (const id of ids) logs.push(await readLog(url, ada.token, id));
    return logs;
  };
  const before = await readRooms(sqliteNode.url);
  expect(before.flat().length).toBeGreaterThan(30);
  expect(await sqliteNode.stop()).toBe(0);

  const file = join(freshDataDir(), 'rooms.jsonl');
  const exported = await cli(['export', '--all', '--out', file, '--data-dir', sqliteNode.dataDir]);
  expect(exported.stderr).toMatch(/exported 2 rooms/);
  const url = postgresUrl(schema);
  const imported = await cli(['import', '--file', file, '--event-store', url]);
  const total = before.flat().length;
  expect(imported.stderr).toContain(`imported ${total} events`);
  expect((await cli(['import', '--file', file, '--event-store', url])).stderr).toContain(`imported 0 events, ${total} already there`);

  // The stores agree event for event (positions aside: each store numbers its own log)…
  const source = createSqliteEventStore({ file: join(sqliteNode.dataDir, 'events.sqlite') });
  const target = createPostgresEventStore({ url });
  try {
    const strip = (events: Awaited<ReturnType<typeof source.readStream>>) => events.map(({ position: _p, ...rest }) => rest);
    for (const id of ids) expect(strip(await target.readStream(`room-${id}`))).toEqual(strip(await source.readStream(`room-${id}`)));
  } finally {
    await source.close();
    await target.close();
  }

  // …and a node on PostgreSQL answers roomEvents exactly as the SQLite node did.
  const postgresNode = await startInProcessNode({ env: { ...env, EVENT_STORE: url } });
  expect(await readRooms(postgresNode.url)).toEqual(before);
  // And it goes on from there: the next send gets the next seq.
  const next = await sendMessage(postgresNode.url, ada.token, ids[0]!, 'after the move');
  expect(next.seq).toBe(before[0]!.at(-1)!.seq + 1);
  expect(await postgresNode.stop()).toBe(0);
});
