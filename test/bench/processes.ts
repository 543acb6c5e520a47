/**
 * Child processes of the bench: every one is registered here and killed (by its own pid) when the
 * bench ends, however it ends.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

const live = new Set<ChildProcess>();

/** Hard fd limit of this shell; soft limits are raised to it for each child. */
export function fdLimits(): { soft: number; hard: number } {
  const read = (flag: string): number => {
    const out = spawnSync('bash', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).stdout.trim();
    return out === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(out);
  };
  return { soft: read('-Sn'), hard: read('-Hn') };
}

/**
 * Spawns `node --import tsx <script>` through bash so its open-files limit can be raised first
 * (`exec` keeps the pid: the pid we get is node's, which /proc/<pid>/status needs).
 */
export function spawnNode(script: string, opts: { env?: Record<string, string>; stdio: StdioOptions; cwd?: string }): ChildProcess {
  return spawnCommand(`node --import tsx ${script}`, opts);
}

/**
 * Spawns built JavaScript with plain `node` (how production runs a node: no TypeScript loader in
 * the process). BENCH_NODE_ARGS is added to the command line of these, the servers under test, and
 * of nothing else: e.g. `BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' npm run bench …`.
 */
export function spawnBuiltNode(script: string, opts: { env?: Record<string, string>; stdio: StdioOptions; cwd?: string }): ChildProcess {
  return spawnCommand(`node ${process.env.BENCH_NODE_ARGS ?? ''} ${script}`, opts);
}

/** Any command (redis-server, haproxy, node) the same way: raised fd limit, `exec`, registered for the final kill. */
export function spawnCommand(command: string, opts: { env?: Record<string, string>; stdio: StdioOptions; cwd?: string }): ChildProcess {
  const cmd = `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${command}`;
  const child = spawn('bash', ['-c', cmd], { cwd: opts.cwd ?? repoRoot, env: { ...process.env, ...opts.env }, stdio: opts.stdio });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function killAllChildrenNow(): void {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  live.clear();
}

let hooked = false;
/** Makes sure no child outlives the bench: normal exit, Ctrl-C, SIGTERM, or a crash. */
export function killChildrenOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllChildrenNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAllChildrenNow();
      process.exit(130);
    });
  }
}
