/** Starts a server under test (roomlog's src/main.ts, or the bare ws baseline) as a child process. */
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, spawnBuiltNode, spawnNode, stopChild } from './processes.js';

export type ServerKind = 'roomlog' | 'bare';

export interface ServerHandle {
  kind: ServerKind;
  url: string;
  pid: number;
  /** Milliseconds from spawn until the `listening on` line. */
  startupMs: number;
  /** The last lines the process printed (stdout and stderr), newest last. */
  output: string[];
  rssKb(): number;
  /** Set when the process ended (or began draining) before the bench asked it to: evidence of an outside kill or a crash. */
  unexpectedEnd(): string | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  dataDir: string;
  /** Checkout whose src/main.ts is the roomlog server (default: this one). */
  serverRoot?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Run this script (relative to the server root) instead of the kind's own, e.g. balancer/main.ts. */
  script?: string;
}

const LISTENING = /listening on (http:\/\/[\w.:[\]-]+:\d+)/;
const KEEP_LINES = 400;

export const SCRIPTS: Record<ServerKind, string> = { roomlog: 'src/main.ts', bare: 'test/bench/bareWsServer.ts' };

export function readRssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

function collectLines(child: ChildProcess, output: string[], onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        output.push(line);
        if (output.length > KEEP_LINES) output.shift();
        onLine(line);
      }
    });
  }
}

const built = new Set<string>();

/**
 * roomlog runs as production runs it: built (`scripts/build.mjs`, once per checkout and bench run)
 * and started with plain node from dist/, with the flags `npm start` gives it. The bare baseline is compiled the same way (into
 * .bench/build/), so neither carries tsx. A checkout without the build (an older one given with
 * --server-root) and BENCH_SOURCES=1 run the sources through tsx instead.
 */
function spawnServer(script: string, root: string, opts: Parameters<typeof spawnNode>[1]): ChildProcess {
  if (process.env.BENCH_SOURCES === '1' || !existsSync(join(root, 'scripts/build.mjs'))) return spawnNode(script, opts);
  const production = script.startsWith('src/') || script.startsWith('balancer/');
  // The baseline is compiled outside dist/, which every production build empties.
  const output = `${production ? 'dist' : '.bench/build'}/${script.replace(/\.ts$/, '.js')}`;
  if (!built.has(root)) {
    const build = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: root, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed in ${root}:\n${build.stderr}`);
    built.add(root);
  }
  if (!production && (!built.has(`${root}:${script}`) || !existsSync(join(root, output)))) {
    // Not part of the production build (the bare baseline): one file, compiled alike, once per run.
    const compile = spawnSync(process.execPath, ['-e', `require('esbuild').buildSync({ entryPoints: [${JSON.stringify(script)}], outdir: '.bench/build', outbase: '.', format: 'esm', platform: 'node', target: 'node20' })`], { cwd: root, encoding: 'utf8' });
    if (compile.status !== 0) throw new Error(`could not compile ${script}:\n${compile.stderr}`);
    built.add(`${root}:${script}`);
  }
  return spawnBuiltNode(`${script === SCRIPTS.roomlog ? startFlags(root) : ''} ${output}`, opts);
}

/** The node flags `npm start` gives the node (package.json: `node <flags> dist/src/main.js`), so the bench runs it alike. */
function startFlags(root: string): string {
  const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: { start?: string } }).scripts?.start ?? '';
  return /^node((?: --[\w-]+(?:=\S+)?)*) dist\/src\/main\.js$/.exec(start)?.[1]?.trim() ?? '';
}

export function startServer(kind: ServerKind, opts: StartOptions): Promise<ServerHandle> {
  const env = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: opts.dataDir, RATE_LIMIT_MESSAGES: '0', ...opts.env };
  const spawnedAt = performance.now();
  const root = kind === 'roomlog' || opts.script ? (opts.serverRoot ?? repoRoot) : repoRoot;
  const child = spawnServer(opts.script ?? SCRIPTS[kind], root, { env, stdio: ['pipe', 'pipe', 'pipe'], cwd: root });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopChild(child, 1_000);
      reject(new Error(`${kind} did not print "listening on" within ${opts.timeoutMs ?? 60_000} ms:\n${output.slice(-20).join('\n')}`));
    }, opts.timeoutMs ?? 60_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${kind} exited (${code ?? signal}) before listening:\n${output.slice(-30).join('\n')}`));
    });
    collectLines(child, output, (line) => {
      const m = LISTENING.exec(line);
      if (!m) return;
      clearTimeout(timer);
      const startupMs = performance.now() - spawnedAt;
      const pid = child.pid!;
      let stopping = false;
      let ended: string | undefined;
      child.once('exit', (code, signal) => {
        if (!stopping) ended ??= `exited (${signal ?? `code ${code}`}) at ${new Date().toISOString().slice(11, 23)} without the bench asking`;
      });
      collectLines(child, [], (l) => {
        // roomlog logs `{"signal":"SIGTERM","msg":"draining"}` when told to stop.
        if (!stopping && /"signal"|draining/.test(l)) ended ??= `got a stop signal at ${new Date().toISOString().slice(11, 23)} that the bench did not send: ${l.slice(0, 200)}`;
      });
      resolve({
        kind,
        url: m[1]!,
        pid,
        startupMs,
        output,
        rssKb: () => readRssKb(pid),
        unexpectedEnd: () => ended,
        stop: () => {
          stopping = true;
          child.stdin?.end();
          return stopChild(child);
        },
      });
    });
  });
}
