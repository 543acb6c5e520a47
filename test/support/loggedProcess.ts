import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface LoggedProcess {
  child: ChildProcess;
  /** Everything it printed, stdout and stderr, one entry per line. */
  logs: string[];
  /** The first line (already printed or still to come) that matches; rejects on exit or timeout. */
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<string>;
}

/**
 * One of the project's entry points as a child process (`node --import tsx <script>`), with a
 * clean environment apart from PATH/HOME — no stray PORT, DATA_DIR or NODE_OPTIONS from the test
 * runner leak in — and its output collected line by line.
 */
export function spawnLogged(script: string, env: Record<string, string>, label: string): LoggedProcess {
  const baseEnv: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[key]) baseEnv[key] = process.env[key]!;
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repoRoot,
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  const push = (line: string) => {
    logs.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) push(line);
    });
    stream.on('end', () => {
      if (rest) push(rest);
      rest = '';
    });
  }
  const waitForLog = (pattern: RegExp, timeoutMs: number): Promise<string> => {
    const seen = logs.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        cleanup();
        reject(new Error(`${label} exited (${code ?? signal}) before printing ${pattern}:\n${logs.slice(-30).join('\n')}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${label} did not print ${pattern} within ${timeoutMs} ms:\n${logs.slice(-30).join('\n')}`));
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
        waiters.delete(waiter);
      };
      waiters.add(waiter);
      if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode, child.signalCode);
      else child.once('exit', onExit);
    });
  };
  return { child, logs, waitForLog };
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * SIGTERM and wait for the exit (SIGKILL after `graceMs`), then let the last output lines arrive
 * before callers read the logs; resolves with the exit code.
 */
/**
 * Waits for the line that says where the process listens (`pattern`'s first group: the port) and
 * resolves with the port; a process that never says so is SIGKILLed before the error is passed on.
 */
export async function listeningPort(process: Pick<LoggedProcess, 'child' | 'waitForLog'>, pattern: RegExp, timeoutMs: number): Promise<number> {
  let line: string;
  try {
    line = await process.waitForLog(pattern, timeoutMs);
  } catch (error) {
    process.child.kill('SIGKILL');
    await exited(process.child);
    throw error;
  }
  return Number(pattern.exec(line)![1]);
}

export async function stopGracefully(child: ChildProcess, graceMs: number): Promise<number | null> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited(child);
    clearTimeout(timer);
  }
  const stdoutEnded = child.stdout && !child.stdout.closed ? new Promise<void>((resolve) => child.stdout!.once('close', () => resolve())) : Promise.resolve();
  await Promise.race([stdoutEnded, new Promise((resolve) => setTimeout(resolve, 1_000))]);
  return child.exitCode;
}

/** SIGKILL (kill -9), and wait for the exit. */
export async function killNow(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exited(child);
}
