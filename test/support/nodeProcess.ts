/**
 * One roomlog node as a real child process (`node --import tsx src/main.ts`) on a random port of
 * 127.0.0.1, for the end-to-end tests. Every node started here is registered, so a test file's
 * `afterAll(killAllNodes)` disposes of whatever a failed test left running (graphql-ws's own
 * tests do the same with their servers).
 */
import type { ChildProcess } from 'node:child_process';
import { exited, killNow, listeningPort, stopGracefully, repoRoot, spawnLogged, type LoggedProcess } from './loggedProcess.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { repoRoot };

/**
 * What a test needs of a running node whichever way it runs: a child process (here) or a node in
 * the test's own process (inProcessNode.ts). Tests that use only this switch by changing the start.
 */
export interface ServerHandle {
  /** `http://127.0.0.1:<port>` (no path). */
  url: string;
  /** `ws://127.0.0.1:<port>/graphql`. */
  wsUrl: string;
  port: number;
  dataDir: string;
  /** Graceful stop (drain, close sockets with 1012, release everything); resolves with the exit code (0: clean). */
  stop(graceMs?: number): Promise<number | null>;
}

export interface NodeHandle extends ServerHandle {
  process: ChildProcess;
  /** Everything the process printed, stdout and stderr, one entry per line. */
  logs: string[];
  /** SIGTERM, and wait for the exit (SIGKILL after `graceMs`); resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL (kill -9), and wait for the exit. */
  kill(): Promise<void>;
  /** Resolves with the first log line that matches, waiting for it up to `timeoutMs`. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export interface StartNodeOptions {
  /** Added to (and overriding) the defaults: PORT=0, HOST=127.0.0.1, LOG_LEVEL=info. */
  env?: Record<string, string>;
  /** Reuse a data directory (restart tests); default: a fresh temporary one. */
  dataDir?: string;
  /** How long to wait for the `listening on` line. */
  timeoutMs?: number;
}

export interface ExitedProcess {
  code: number | null;
  signal: NodeJS.Signals | null;
  logs: string[];
}

const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
/** Nodes told to go (stop, kill, killAllNodes): their exit is no surprise. */
const expectedExits = new WeakSet<ChildProcess>();

/** A fresh, empty data directory, removed by `killAllNodes`. */
export function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'roomlog-e2e-'));
  tempDirs.add(dir);
  return dir;
}

function spawnServer(env: Record<string, string>): LoggedProcess {
  const spawned = spawnLogged('src/main.ts', env, 'node');
  const { child } = spawned;
  live.add(child);
  child.once('exit', () => live.delete(child));
  // A signal sent through this handle (by a helper or by a test) is an expected exit.
  const kill = child.kill.bind(child);
  child.kill = (signal?: NodeJS.Signals | number) => {
    expectedExits.add(child);
    return kill(signal);
  };
  return spawned;
}

/** Starts a node and resolves once it prints `listening on` (rejects, killing it, otherwise). */
export async function startNode(options: StartNodeOptions = {}): Promise<NodeHandle> {
  const dataDir = options.dataDir ?? freshDataDir();
  const env = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', ...options.env };
  const spawned = spawnServer(env);
  const { child, logs, waitForLog } = spawned;
  const port = await listeningPort(spawned, LISTENING, options.timeoutMs ?? 30_000);
  // A node that goes away without being told to is worth a loud line: the failing test that
  // follows would otherwise only show a closed socket.
  child.once('exit', (code, signal) => {
    if (!expectedExits.has(child)) console.error(`node on port ${port} exited unexpectedly (${code ?? signal}); its last lines:\n${logs.slice(-20).join('\n')}`);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    port,
    dataDir,
    process: child,
    logs,
    stop: (graceMs = 15_000) => stopGracefully(child, graceMs),
    kill: () => killNow(child),
    waitForLog: (pattern, timeoutMs = 10_000) => waitForLog(pattern, timeoutMs),
  };
}

/**
 * Starts a node process without waiting for anything (e.g. one that waits for its Redis before it
 * listens); registered like the others, so `killAllNodes` disposes of it.
 */
export function spawnNode(options: { env?: Record<string, string>; dataDir?: string } = {}): LoggedProcess & { dataDir: string } {
  const dataDir = options.dataDir ?? freshDataDir();
  return { ...spawnServer({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', ...options.env }), dataDir };
}

/**
 * Runs a node that is expected to exit on its own (e.g. on bad configuration); resolves with its
 * exit status and output, killing it if it is still running after `timeoutMs`.
 */
export async function runNodeToExit(options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ExitedProcess> {
  const env = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: freshDataDir(), ...options.env };
  const { child, logs } = spawnServer(env);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  await closed;
  clearTimeout(timer);
  return { code: child.exitCode, signal: child.signalCode, logs };
}

/** For `afterAll`: SIGKILLs every node this file started that is still running, and removes temp dirs. */
export async function killAllNodes(): Promise<void> {
  const running = [...live];
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(running.map(exited));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

// Last resort if the test process itself goes away: no orphaned servers.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
