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
import { readModelKeys } from '../../src/readModels/redisReadModelLayout.js';

const run = promisify(execFile);
const cliEnv = (env: Record<string, string> = {}) => ({ PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env });
/** The CLI as a user runs it (`npm run cli -- …` is `tsx src/cli/main.ts …`). */
async function cli(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: repoRoot,
    env: cliEnv(env),
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
      await eventually(async () => Number(await client.get(readModelKeys('roomlog:').checkpoint)) === head, 60_000, 'the live projector caught up');
      const { stdout } = await cli(['rebuild', '--data-dir', dataDir, '--redis-url', redis.url, '--prefix', 'rebuilt:']);
      expect(stdout).toMatch(/rebuilt redis prefix "rebuilt:" from 100000 events in [\d.]+ s: \d+ events\/s/);
      const live = (await client.keys(readModelKeys('roomlog:').everything)).sort();
      const rebuilt = (await client.keys(readModelKeys('rebuilt:').everything)).sort();
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
    for (const command of ['replay', 'rebuild', 'export', 'import', 'rooms', 'secret']) {
      expect((await cli([command, '--help'])).stdout).toContain(`Usage: roomlog ${command}`);
    }
  });

  it('replay and export into a pipe closed early (`| head -2`) stop quietly, exit 0, no EPIPE', async () => {
    const dataDir = freshDataDir();
    const store = createSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
    const { roomIds } = await seedLog(store, { events: 20_000, rooms: 1, batch: 500 });
    await store.close();
    for (const command of [`replay --room ${roomIds[0]}`, `replay --format json --room ${roomIds[0]}`, `export --all`]) {
      // bash with pipefail: the pipeline's status is the CLI's own, as a user's shell script would see it.
      const line = `set -o pipefail; node --import tsx src/cli/main.ts ${command} --data-dir ${dataDir} | head -2`;
      const { stdout, stderr } = await run('bash', ['-c', line], { cwd: repoRoot, env: cliEnv() });
      expect(stdout.trim().split('\n'), command).toHaveLength(2);
      expect(stderr, command).not.toMatch(/EPIPE|Error|at /);
    }
  });

  it('replay and export of a room the log does not have say so on stderr and exit 1, writing nothing', async () => {
    const node = await startInProcessNode();
    const ada = await createUser(node.url, 'ada');
    const room = await createRoom(node.url, ada.token, 'here');
    const out = join(freshDataDir(), 'never.jsonl');
    for (const args of [
      ['replay', '--room', 'no-such-room'],
      ['replay', '--room', 'no-such-room', '--format', 'json'],
      ['export', '--room', room.id, 'no-such-room'],
      ['export', '--room', 'no-such-room', '--out', out],
    ]) {
      const failure = await cli([...args, '--data-dir', node.dataDir]).then(
        () => ({ code: 0, stdout: '', stderr: '' }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      expect(failure.code, args.join(' ')).toBe(1);
      expect(failure.stderr.trim(), args.join(' ')).toBe(
        'error: no room no-such-room in this event store (check the id, EVENT_STORE and DATA_DIR; `npm run cli -- rooms` lists every room)',
      );
      expect(failure.stdout).toBe('');
    }
    expect(() => readFileSync(out)).toThrow(/ENOENT/);
  });

  it('rooms lists every room, private ones included; export --all then import reproduces them all', async () => {
    const node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
    const ada = await createUser(node.url, 'ada');
    const bob = await createUser(node.url, 'bob');
    const open = await createRoom(node.url, ada.token, 'open room');
    const closed = await createRoom(node.url, bob.token, 'closed room', 'a long password');
    await gql(node.url, 'mutation($id: ID!) { joinRoom(roomId: $id) { id } }', { id: open.id }, bob.token);
    for (let i = 0; i < 5; i++) await sendMessage(node.url, bob.token, closed.id, `secret ${i}`);
    const listed = (await cli(['rooms', '--json', '--data-dir', node.dataDir])).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; name: string; private: boolean; memberCount: number; headSeq: number });
    expect(listed.map(({ id, name, private: isPrivate, memberCount, headSeq }) => ({ id, name, isPrivate, memberCount, headSeq }))).toEqual([
      { id: open.id, name: 'open room', isPrivate: false, memberCount: 2, headSeq: 3 },
      { id: closed.id, name: 'closed room', isPrivate: true, memberCount: 1, headSeq: 7 },
    ]);
    const table = (await cli(['rooms', '--data-dir', node.dataDir])).stdout;
    expect(table).toMatch(new RegExp(`${closed.id}\\s+private\\s+1 members\\s+head #7\\s+closed room`));

    const file = join(freshDataDir(), 'all.jsonl');
    const exported = await cli(['export', '--all', '--out', file, '--data-dir', node.dataDir]);
    expect(exported.stderr).toContain('exported 2 rooms, 10 events');
    const target = freshDataDir();
    expect((await cli(['import', '--file', file, '--data-dir', target])).stderr).toContain('imported 10 events');
    expect((await cli(['rooms', '--json', '--data-dir', target])).stdout).toBe((await cli(['rooms', '--json', '--data-dir', node.dataDir])).stdout);
    const again = join(freshDataDir(), 'again.jsonl');
    await cli(['export', '--all', '--out', again, '--data-dir', target]);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(file, 'utf8'));
    const both = await cli(['export', '--all', '--room', open.id, '--data-dir', target]).catch((error: { stderr: string }) => error);
    expect((both as { stderr: string }).stderr).toContain('give --room <id...> or --all (not both)');
  });

  it('a move with `secret show` | `secret set` keeps every session: tokens issued before it work after it', async () => {
    const before = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
    const ada = await createUser(before.url, 'ada');
    const room = await createRoom(before.url, ada.token, 'private', 'a long password');
    await sendMessage(before.url, ada.token, room.id, 'before the move');
    const file = join(freshDataDir(), 'move.jsonl');
    await cli(['export', '--all', '--out', file, '--data-dir', before.dataDir]);
    await before.stop();

    // Without the secret: the data is all there, but the old session is refused.
    const withoutSecret = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
    await cli(['import', '--file', file, '--data-dir', withoutSecret.dataDir]);
    const refused = await fetch(`${withoutSecret.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ada.token}` },
      body: JSON.stringify({ query: '{ me { id } }' }),
    }).then((response) => response.json() as Promise<{ errors?: Array<{ extensions?: { code?: string } }> }>);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await withoutSecret.stop();

    // With it: import, then the secret (piped, as the README shows), then start the node.
    const target = freshDataDir();
    await cli(['import', '--file', file, '--data-dir', target]);
    const moved = await run('bash', ['-c', `set -o pipefail; node --import tsx src/cli/main.ts secret show --data-dir ${before.dataDir} | node --import tsx src/cli/main.ts secret set --data-dir ${target}`], { cwd: repoRoot, env: cliEnv() });
    expect(moved.stderr).toContain('secret written');
    expect((await cli(['secret', 'show', '--data-dir', target])).stdout).toBe((await cli(['secret', 'show', '--data-dir', before.dataDir])).stdout);
    const after = await startInProcessNode({ dataDir: target, env: { RATE_LIMIT_MESSAGES: '0' } });
    const sent = await sendMessage(after.url, ada.token, room.id, 'after the move'); // still a member: no password asked
    expect(sent.seq).toBe(4);
    const log = await readLog(after.url, ada.token, room.id);
    expect(log.map((event) => event.__typename)).toEqual(['RoomCreated', 'MemberJoined', 'MessagePosted', 'MessagePosted']);

    // Setting it again is harmless; another secret is refused unless --replace.
    expect((await cli(['secret', 'set', (await cli(['secret', 'show', '--data-dir', target])).stdout.trim(), '--data-dir', target])).stderr).toContain('secret unchanged');
    const other = Buffer.alloc(32, 7).toString('base64url');
    const clash = await cli(['secret', 'set', other, '--data-dir', target]).catch((error: { code: number; stderr: string }) => error);
    expect(clash).toMatchObject({ code: 1 });
    expect((clash as { stderr: string }).stderr).toMatch(/already holds another secret; --replace/);
    const short = await cli(['secret', 'set', 'abc', '--data-dir', freshDataDir()]).catch((error: { code: number; stderr: string }) => error);
    expect((short as { stderr: string }).stderr).toMatch(/not a secret/);
    await after.stop();
  });
});
