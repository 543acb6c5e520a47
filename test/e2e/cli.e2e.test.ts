import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../../src/eventStore/sqliteEventStore.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import { freshDataDir, killAllNodes, repoRoot } from '../support/nodeProcess.js';
import { createRoom, createUser, eventually, gql, readLog, sendMessage } from '../support/gql.js';
import { startRedis, stopAllRedis } from '../support/redisServer.js';
import { seedLog } from '../support/seedLog.js';

const run = promisify(execFile);
/** The CLI as a user runs it (`npm run cli -- …` is `tsx src/cli/main.ts …`). */
async function cli(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
}

afterAll(async () => {
  await stopAllInProcessNodes();
  await killAllNodes(); // no node process here: it removes the freshDataDir directories
  await stopAllRedis();
});

describe('the CLI against a real node', () => {
  it('replay prints exactly what the roomEvents query returns', async () => {
    const node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
    const ada = await createUser(node.url, 'ada');
    const room = await createRoom(node.url, ada.token, 'replayed');
    const sent = [];
    for (let i = 0; i < 30; i++) sent.push(await sendMessage(node.url, ada.token, room.id, `message ${i}`));
    await gql(node.url, 'mutation($id: ID!) { editMessage(messageId: $id, body: "edited") { id } }', { id: sent[3]!.id }, ada.token);
    await gql(node.url, 'mutation($id: ID!) { deleteMessage(messageId: $id) { id } }', { id: sent[4]!.id }, ada.token);
    const fromQuery = await readLog(node.url, ada.token, room.id);
    const { stdout } = await cli(['replay', '--room', room.id, '--format', 'json', '--data-dir', node.dataDir]);
    const fromCli = stdout.trim().split('\n').map((line) => JSON.parse(line) as { seq: number; type: string; at: string; roomId: string });
    expect(fromCli.map(({ seq, type, at, roomId }) => ({ seq, type, at, roomId }))).toEqual(
      fromQuery.map(({ seq, __typename, at, roomId }) => ({ seq, type: __typename, at, roomId })),
    );
    expect(fromCli).toHaveLength(34);
    const table = (await cli(['replay', '--room', room.id, '--from', '32', '--data-dir', node.dataDir])).stdout;
    expect(table).toMatch(/33 .*MessageEdited/);
    expect(table).not.toMatch(/ 32 /);
  });

  it('export then import into a fresh store gives identical streams (seqs, ids, types, data, times)', async () => {
    const node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
    const bob = await createUser(node.url, 'bob');
    const rooms = [await createRoom(node.url, bob.token, 'one'), await createRoom(node.url, bob.token, 'two', 'secret password')];
    for (let i = 0; i < 25; i++) await sendMessage(node.url, bob.token, rooms[i % 2]!.id, `m${i}`);
    const ids = rooms.map((r) => r.id);
    const out = join(freshDataDir(), 'export.jsonl');
    await cli(['export', '--room', ...ids, '--out', out, '--data-dir', node.dataDir]);
    const target = freshDataDir();
    const imported = await cli(['import', '--file', out, '--data-dir', target]);
    expect(imported.stderr).toContain('imported 29 events');
    const again = await cli(['import', '--file', out, '--data-dir', target]);
    expect(again.stderr).toContain('imported 0 events, 29 already there');
    const source = createSqliteEventStore({ file: join(node.dataDir, 'events.sqlite') });
    const copy = createSqliteEventStore({ file: join(target, 'events.sqlite') });
    for (const id of ids) {
      const strip = (events: Awaited<ReturnType<typeof source.readStream>>) => events.map(({ position: _p, ...rest }) => rest);
      expect(strip(await copy.readStream(`room-${id}`))).toEqual(strip(await source.readStream(`room-${id}`)));
    }
    await source.close();
    await copy.close();
    const reexported = join(freshDataDir(), 'again.jsonl');
    await cli(['export', '--room', ...ids, '--out', reexported, '--data-dir', target]);
    expect(readFileSync(reexported, 'utf8')).toBe(readFileSync(out, 'utf8'));
  });

  it('rebuild over 100,000 events reproduces the read models the live projector built, key for key', async () => {
    const dataDir = freshDataDir();
    const store = createSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
    await seedLog(store, { events: 100_000, rooms: 40 });
    const head = await store.headPosition();
    await store.close();
    const redis = await startRedis();
    const node = await startInProcessNode({ dataDir, env: { REDIS_URL: redis.url, JWT_SECRET: 'cli-test-secret-0123456789-abcdefghij', RATE_LIMIT_MESSAGES: '0' } });
    const client = new Redis(redis.url);
    try {
      await eventually(async () => Number(await client.get('roomlog:rm:checkpoint')) === head, 60_000, 'the live projector caught up');
      const { stdout } = await cli(['rebuild', '--data-dir', dataDir, '--redis-url', redis.url, '--prefix', 'rebuilt:']);
      expect(stdout).toMatch(/rebuilt redis prefix "rebuilt:" from 100000 events in [\d.]+ s: \d+ events\/s/);
      const live = (await client.keys('roomlog:rm:*')).sort();
      const rebuilt = (await client.keys('rebuilt:rm:*')).sort();
      expect(rebuilt.map((key) => key.slice('rebuilt:'.length))).toEqual(live.map((key) => key.slice('roomlog:'.length)));
      expect(live.length).toBeGreaterThan(1_000);
      for (let i = 0; i < live.length; i += 500) {
        const chunk = live.slice(i, i + 500);
        const dump = async (keys: string[]) =>
          Promise.all(
            keys.map(async (key) => {
              const type = await client.type(key);
              if (type === 'zset') return client.zrange(key, 0, -1, 'WITHSCORES');
              if (type === 'set') return (await client.smembers(key)).sort();
              return client.get(key);
            }),
          );
        expect(await dump(chunk.map((key) => key.replace('roomlog:', 'rebuilt:')))).toEqual(await dump(chunk));
      }
    } finally {
      client.disconnect();
      await node.stop();
    }
  }, 180_000);

  it('says what is wrong with bad arguments, and every command has --help', async () => {
    const failure = await cli(['replay']).catch((error: { stderr: string; code: number }) => error);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain("required option '--room <id>'");
    for (const command of ['replay', 'rebuild', 'export', 'import']) {
      expect((await cli([command, '--help'])).stdout).toContain(`Usage: roomlog ${command}`);
    }
  });
});
