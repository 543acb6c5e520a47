/**
 * One roomlog node as a real child process (`node --import tsx src/main.ts`) on a random port of
 * 127.0.0.1, for the end-to-end tests. Every node started here is registered, so a test file's
 * `afterAll(killAllNodes)` disposes of whatever a failed test left running (graphql-ws's own
 * tests do the same with their servers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface NodeHandle {
  /** `http://127.0.0.1:<port>` (no path). */
  url: string;
  /** `ws://127.0.0.1:<port>/graphql`. */
  wsUrl: string;
  port: number;
  dataDir: string;
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

function spawnServer(env: Record<string, string>): { child: ChildProcess; logs: string[]; lines: LineWatch } {
  // The child gets a clean environment apart from PATH/HOME: no stray PORT, DATA_DIR or
  // NODE_OPTIONS from the test runner leak into the node under test.
  const baseEnv: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[key]) baseEnv[key] = process.env[key]!;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repoRoot,
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  // A signal sent through this handle (by a helper or by a test) is an expected exit.
  const kill = child.kill.bind(child);
  child.kill = (signal?: NodeJS.Signals | number) => {
    expectedExits.add(child);
    return kill(signal);
  };
  const logs: string[] = [];
  const lines = new LineWatch(logs);
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) lines.push(line);
    });
    stream.on('end', () => {
      if (rest) lines.push(rest);
      rest = '';
    });
  }
  return { child, logs, lines };
}

/** Collects lines and lets callers wait for one that matches. */
class LineWatch {
  private waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  constructor(readonly logs: string[]) {}

  push(line: string): void {
    this.logs.push(line);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pattern.test(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  wait(pattern: RegExp, timeoutMs: number, child: ChildProcess): Promise<string> {
    const seen = this.logs.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        cleanup();
        reject(new Error(`node exited (${code ?? signal}) before printing ${pattern}:\n${this.logs.slice(-30).join('\n')}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`node did not print ${pattern} within ${timeoutMs} ms:\n${this.logs.slice(-30).join('\n')}`));
      }, timeoutMs);
      const waiter = {
        pattern,
        resolve: (line: string) => {
          cleanup();
          resolve(line);
        },
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.off('exit', onExit);
        this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      this.waiters.push(waiter);
      if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode, child.signalCode);
      else child.once('exit', onExit);
    });
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a node and resolves once it prints `listening on` (rejects, killing it, otherwise). */
export async function startNode(options: StartNodeOptions = {}): Promise<NodeHandle> {
  const dataDir = options.dataDir ?? freshDataDir();
  const env = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', ...options.env };
  const { child, logs, lines } = spawnServer(env);
  let line: string;
  try {
    line = await lines.wait(LISTENING, options.timeoutMs ?? 30_000, child);
  } catch (error) {
    child.kill('SIGKILL');
    await exited(child);
    throw error;
  }
  const port = Number(LISTENING.exec(line)![1]);
  // A node that goes away without being told to is worth a loud line: the failing test that
  // follows would otherwise only show a closed socket.
  child.once('exit', (code, signal) => {
    if (!expectedExits.has(child)) console.error(`node on port ${port} exited unexpectedly (${code ?? signal}); its last lines:\n${logs.slice(-20).join('\n')}`);
  });
  const stdoutEnded = new Promise<void>((resolve) => child.stdout!.once('close', () => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    port,
    dataDir,
    process: child,
    logs,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited(child);
        clearTimeout(timer);
      }
      // Let the last log lines ("stopped") arrive before callers read `logs`.
      await Promise.race([stdoutEnded, new Promise((resolve) => setTimeout(resolve, 1_000))]);
      return child.exitCode;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited(child);
    },
    waitForLog: (pattern, timeoutMs = 10_000) => lines.wait(pattern, timeoutMs, child),
  };
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
