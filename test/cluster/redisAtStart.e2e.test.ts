/**
 * A node whose Redis is not there at start (issue 12, finding 6). It says "waiting for Redis at …"
 * once, answers /healthz (and /readyz with 503 "starting") while it waits, prints no stack
 * traces, and goes on to serve as soon as Redis answers; with REDIS_WAIT_MS set it gives up after
 * that long and exits 1 with one clear line. The CLI's `rebuild` with Redis down fails with one
 * line, not pages of ioredis traces.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { createUser } from '../support/gql.js';
import { killAllNodes, repoRoot, runNodeToExit, spawnNode } from '../support/nodeProcess.js';
import { freePort, startRedis, stopAllRedis } from '../support/redisServer.js';

afterAll(async () => {
  await killAllNodes();
  await stopAllRedis();
});

/** Log lines that carry a stack trace (pino's `err.stack`, or a bare `    at …` frame). */
const stackTraces = (lines: string[]) => lines.filter((line) => line.includes('"stack"') || /^\s+at /.test(line));

it('waits for Redis, saying so once, answering /healthz meanwhile; serves as soon as Redis is up', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const redisUrl = `redis://127.0.0.1:${port}`;
  const node = spawnNode({ env: { REDIS_URL: redisUrl, RATE_LIMIT_MESSAGES: '0' } });
  const waiting = await node.waitForLog(/waiting for Redis at/, 20_000);
  expect(waiting).toContain(redisUrl);
  const health = /answering \/healthz on (http:\/\/127\.0\.0\.1:\d+)/.exec(waiting)?.[1];
  expect(health, `the waiting line names where /healthz answers: ${waiting}`).toBeDefined();

  expect((await fetch(`${health}/healthz`)).status).toBe(200);
  const ready = await fetch(`${health}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toMatchObject({ ready: false, status: 'starting' });
  const early = await fetch(`${health}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
  expect(early.status, 'the API answers 503 (retry) while starting').toBe(503);

  // Under test: a few seconds of waiting print nothing more (ioredis retries several times a second).
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const redis = await startRedis({ port });
  const listening = await node.waitForLog(/listening on http/, 20_000);
  expect(listening).toContain(health!);
  expect(await createUser(health!, 'after-the-wait')).toMatchObject({ token: expect.any(String) });
  const readyNow = await fetch(`${health}/readyz`);
  expect(readyNow.status).toBe(200);
  expect(await readyNow.json()).toMatchObject({ ready: true, redis: 'ok' });

  console.log(`waiting for Redis: ${node.logs.length} lines in all; the waiting line: ${waiting.slice(0, 200)}`);
  expect(node.logs.filter((line) => /waiting for Redis/.test(line))).toHaveLength(1);
  expect(stackTraces(node.logs)).toEqual([]);
  expect(node.logs.filter((line) => /"level":(40|50)/.test(line) && !/waiting for Redis/.test(line)), 'no other warning while waiting').toEqual([]);
  await redis.kill();
});

it('REDIS_WAIT_MS: gives up after that long and exits 1 with one clear line', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const started = Date.now();
  const exited = await runNodeToExit({ env: { REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_WAIT_MS: '2000' }, timeoutMs: 30_000 });
  const ms = Date.now() - started;
  console.log(`REDIS_WAIT_MS=2000: exit ${exited.code} after ${ms} ms; last line: ${exited.logs.filter(Boolean).at(-1)}`);
  expect(exited.code).toBe(1);
  expect(exited.logs.some((line) => /Redis at redis:\/\/127\.0\.0\.1:\d+ did not answer within 2 s/.test(line))).toBe(true);
  expect(stackTraces(exited.logs)).toEqual([]);
});

it('the CLI rebuild with Redis down: one clear line, exit 1', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const result = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'rebuild', '--event-store', 'memory', '--redis-url', `redis://127.0.0.1:${port}`],
    { cwd: repoRoot, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp' }, timeout: 30_000 },
  ).then(
    () => ({ code: 0, stderr: '', stdout: '' }),
    (error: { code?: number; stderr?: string; stdout?: string }) => ({ code: error.code, stderr: error.stderr ?? '', stdout: error.stdout ?? '' }),
  );
  const lines = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
  console.log(`rebuild with Redis down: exit ${result.code}; output: ${JSON.stringify(lines)}`);
  expect(result.code).toBe(1);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^error: Redis at redis://127\\.0\\.0\\.1:${port} does not answer`));
});
