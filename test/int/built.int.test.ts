/**
 * Production runs the build (`npm start` → `node dist/src/main.js`, the Docker image the same):
 * this starts the built node as a child, with a module hook that writes down every module the
 * process resolves, and checks that it serves (HTTP, the web chat, a roomEvents subscription over
 * WebSocket) while loading no TypeScript source, no tsx, and no EventStoreDB client on SQLite.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createRoom, createUser, ROOM_EVENTS_SUBSCRIPTION, sendMessage } from '../support/gql.js';
import { repoRoot } from '../support/nodeProcess.js';

const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/;

let dir: string;
let child: ChildProcess;
let url: string;
let resolvedFile: string;
const logs: string[] = [];

/** A resolve hook (run by `node --import`) appending each resolved URL to RESOLVED_LOG. */
function writeHooks(): string {
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.RESOLVED_LOG, result.url + '\\n');
  return result;
}
`,
  );
  const register = join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  return register;
}

beforeAll(async () => {
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  expect(build.status, build.stderr).toBe(0);
  dir = mkdtempSync(join(tmpdir(), 'roomlog-built-'));
  resolvedFile = join(dir, 'resolved.txt');
  child = spawn(process.execPath, ['--import', writeHooks(), 'dist/src/main.js'], {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '', PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'info', RESOLVED_LOG: resolvedFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" in 30 s:\n${logs.join('\n')}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`the built node exited (${code}):\n${logs.join('\n')}`)));
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        logs.push(...chunk.split('\n').filter(Boolean));
        const found = LISTENING.exec(chunk);
        if (found) {
          clearTimeout(timer);
          resolve(found[1]!);
        }
      });
    }
  });
}, 90_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the built node (node dist/src/main.js)', () => {
  it('answers GraphQL over HTTP and delivers a roomEvents subscription over WebSocket', async () => {
    const alice = await createUser(url, 'alice');
    const room = await createRoom(url, alice.token, 'built');
    const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const frames: Array<{ type: string; payload?: { data?: { roomEvents?: { seq: number; message?: { body: string } } } } }> = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    socket.on('close', (code, reason) => frames.push({ type: `closed ${code} ${String(reason)}` }));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${alice.token}` } }));
    await expect.poll(() => frames.map((f) => f.type)).toContain('connection_ack');
    socket.send(JSON.stringify({ id: 's1', type: 'subscribe', payload: { query: ROOM_EVENTS_SUBSCRIPTION, variables: { roomId: room.id, afterSeq: 0 } } }));
    await sendMessage(url, alice.token, room.id, 'from the build');
    await expect
      .poll(() => frames.find((f) => f.payload?.data?.roomEvents?.message)?.payload?.data?.roomEvents?.message?.body, { timeout: 10_000 })
      .toBe('from the build')
      .catch((error: unknown) => {
        throw new Error(`${String(error)}; frames: ${JSON.stringify(frames)}`);
      });
    socket.close();
  });

  it('serves the web chat (or the page saying how to build it)', async () => {
    // The same directory the sources use (client/web/dist), found from dist/src/server/ as from src/server/.
    const index = join(repoRoot, 'client/web/dist/index.html');
    const built = existsSync(index);
    const response = await fetch(`${url}/`);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const page = await response.text();
    if (built) {
      expect(response.status).toBe(200);
      expect(page).toBe(readFileSync(index, 'utf8'));
    } else {
      expect(response.status).toBe(503);
      expect(page).toContain('npm run build:web');
    }
  });

  it('loads only built JavaScript: no TypeScript source, no tsx, no EventStoreDB client on SQLite', () => {
    const resolved = readFileSync(resolvedFile, 'utf8').split('\n').filter(Boolean);
    const main = pathToFileURL(join(repoRoot, 'dist/src/main.js')).href;
    expect(resolved).toContain(main);
    expect(resolved.filter((u) => u.includes('/node_modules/graphql/')).length).toBeGreaterThan(0);
    expect(resolved.filter((u) => /\.[cm]?tsx?$/.test(u))).toEqual([]);
    expect(resolved.filter((u) => u.includes('/node_modules/tsx/') || u.includes('/node_modules/esbuild/'))).toEqual([]);
    expect(resolved.filter((u) => u.includes('@eventstore') || u.includes('esdbEventStore'))).toEqual([]);
    // Our own modules all come from dist/.
    const ours = resolved.filter((u) => u.startsWith(pathToFileURL(repoRoot).href) && !u.includes('/node_modules/'));
    expect(ours.filter((u) => !u.includes('/dist/'))).toEqual([]);
  });

  it('stops cleanly on SIGTERM (no npm or loader between the supervisor and the node)', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('what production runs', () => {
  it('npm start and the image run node on dist/ directly; tsx is a development dependency', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.scripts.start).toMatch(/^node( --[\w-]+=\w+)* dist\/src\/main\.js$/);
    expect(pkg.dependencies).not.toHaveProperty('tsx');
    expect(pkg.devDependencies).toHaveProperty('tsx');
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    // The image runs node itself, with the flags npm start gives it.
    const flags = (pkg.scripts.start ?? '').split(' ').slice(1, -1);
    expect(dockerfile).toContain(`CMD ${JSON.stringify(['node', ...flags, 'dist/src/main.js']).replaceAll(',', ', ')}`);
    expect(dockerfile).not.toMatch(/tsx/);
    expect(dockerfile.match(/^FROM node:(\d+)/gm)?.map((line) => Number(line.split(':')[1]))).toSatisfy((majors: number[]) => majors.every((major) => major >= 22 && major % 2 === 0));
  });
});
