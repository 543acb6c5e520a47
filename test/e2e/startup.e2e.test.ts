import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDataDir, killAllNodes, repoRoot, startNode } from '../support/nodeProcess.js';

afterAll(killAllNodes);

/** `npm start` as a child process with stdout and stderr apart; resolves at its exit. */
function runNode(env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', PORT: '0', DATA_DIR: freshDataDir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A port something else holds (closed by the caller). */
async function portInUse(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as { port: number }).port, server };
}

/** One line on stderr, exit 1, no stack trace: like a bad configuration value. */
function expectOneClearLine(result: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(result.code).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at |Error:|node:internal/);
}

describe('what npm start prints', () => {
  it('without a terminal: JSON lines only, and one of them gives the web chat and GraphiQL URLs', async () => {
    const node = await startNode();
    const line = await node.waitForLog(/web chat:/);
    await node.stop();
    for (const logged of node.logs.filter((text) => text.trim() !== '')) expect(() => JSON.parse(logged), logged).not.toThrow();
    const entry = JSON.parse(line) as { msg: string; webChat: string; graphiql: string };
    expect(entry.msg).toBe(`web chat: ${node.url}/  GraphiQL: ${node.url}/graphql`);
    expect(entry).toMatchObject({ webChat: `${node.url}/`, graphiql: `${node.url}/graphql` });
  });

  it('in a terminal (a pseudo-terminal from `script`): readable lines, not JSON, with both URLs', async () => {
    const dataDir = freshDataDir();
    // util-linux `script` gives the node a pseudo-terminal as stdout; the node stops itself once
    // the URLs are out (a SIGTERM from a shell wrapper would race the output).
    const command = `cd ${repoRoot} && DATA_DIR=${dataDir} PORT=0 HOST=127.0.0.1 LOG_LEVEL=info ${process.execPath} --import tsx src/main.ts`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', TERM: 'dumb' } });
    let output = '';
    const urls = new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/GraphiQL: http:\/\/127\.0\.0\.1:\d+\/graphql/.test(output)) resolve();
      });
    });
    await Promise.race([urls, new Promise((_, reject) => setTimeout(() => reject(new Error(`no URLs within 30 s:\n${output}`)), 30_000))]);
    child.stdin.write('\x03'); // Ctrl-C through the terminal: SIGINT, a clean stop
    await new Promise((resolve) => child.once('close', resolve));
    const text = output.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: listening on http:\/\/127\.0\.0\.1:\d+/m);
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: web chat: http:\/\/127\.0\.0\.1:(\d+)\/ {2}GraphiQL: http:\/\/127\.0\.0\.1:\1\/graphql/m);
    expect(text).not.toMatch(/^\{"level"/m);
  });
});

describe('start-up failures: one line naming the setting, exit 1', () => {
  it('PORT in use', async () => {
    const { port, server } = await portInUse();
    try {
      const result = await runNode({ PORT: String(port) });
      expectOneClearLine(result, new RegExp(`^cannot start: PORT=${port} on HOST=127\\.0\\.0\\.1 is already in use \\(EADDRINUSE\\); stop what listens there or set another PORT$`));
    } finally {
      server.close();
    }
  });

  it('DATA_DIR that cannot be created or written', async () => {
    // Root may write anywhere, so the one failure that holds for every user: a path under a file.
    const file = join(freshDataDir(), 'a-file');
    writeFileSync(file, '');
    const result = await runNode({ DATA_DIR: join(file, 'data') });
    expectOneClearLine(result, /^cannot start: DATA_DIR=.*\/a-file\/data is not usable: it cannot be created or written by this user \(ENOTDIR at .*\); point DATA_DIR at a directory this user can write$/);
  });

  it('EventStoreDB that does not answer (nothing listens on its port)', async () => {
    const { port, server } = await portInUse();
    await new Promise((resolve) => server.close(resolve)); // a port that was free a moment ago: closed now
    const url = `esdb://127.0.0.1:${port}?tls=false`;
    const result = await runNode({ EVENT_STORE: url });
    expectOneClearLine(result, new RegExp(`^cannot start: the event store at EVENT_STORE=esdb://127\\.0\\.0\\.1:${port}\\?tls=false does not answer \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\); start EventStoreDB or fix EVENT_STORE$`));
  });

  it('PostgreSQL that does not answer, or has no such database', async () => {
    const { port, server } = await portInUse();
    await new Promise((resolve) => server.close(resolve));
    const refused = await runNode({ EVENT_STORE: `postgres://postgres@127.0.0.1:${port}/test` });
    expectOneClearLine(refused, new RegExp(`^cannot start: the event store at EVENT_STORE=postgres://postgres@127\\.0\\.0\\.1:${port}/test does not answer \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\); start PostgreSQL or fix EVENT_STORE$`));
    // The test machine's PostgreSQL (README, "Tests") without the database named.
    const missing = await runNode({ EVENT_STORE: 'postgres://postgres@127.0.0.1:5432/roomlog_no_such_database' });
    expectOneClearLine(missing, /^cannot start: PostgreSQL at EVENT_STORE=postgres:\/\/postgres@127\.0\.0\.1:5432\/roomlog_no_such_database has no such database \(database "roomlog_no_such_database" does not exist\); fix EVENT_STORE or the server$/);
  });

  it('a password in EVENT_STORE is not printed', async () => {
    const { port, server } = await portInUse();
    await new Promise((resolve) => server.close(resolve));
    const result = await runNode({ EVENT_STORE: `esdb://admin:changeit@127.0.0.1:${port}?tls=false` });
    expectOneClearLine(result, /EVENT_STORE=esdb:\/\/admin:\*\*\*@127\.0\.0\.1/);
    expect(result.stderr).not.toContain('changeit');
  });
});
