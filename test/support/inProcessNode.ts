/**
 * One roomlog node inside the test's own process, built by `buildApp` (what src/main.ts runs) on a
 * random port of 127.0.0.1: the same HTTP and WebSocket surface as a node process (nodeProcess.ts)
 * without the seconds a `node --import tsx` start costs. For tests where a real process adds
 * nothing: no kill -9, no signals, no assertions on what the process prints, no memory measured
 * apart from the test's own.
 *
 * Things a process gave for free, kept here:
 *  - a clean configuration: only the variables given here are read, never the runner's
 *    environment (as spawnLogged gives a child a clean environment);
 *  - isolation between nodes of one file: each has its own DATA_DIR, NODE_ID, Prometheus registry
 *    (src/metrics.ts makes one per node) and stores; nothing is shared through module state;
 *  - a sweep: every node started here is registered, so `afterAll(stopAllInProcessNodes)` stops
 *    whatever a failed test left running and removes the temporary directories.
 * What differs: an unhandled rejection inside the node fails the test run (a process only logged
 * it), and the node's log lines (pino, straight to file descriptor 1) are not collected: use a
 * process node for tests that read them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { buildApp, type App } from '../../src/server/app.js';
import type { ServerHandle } from './nodeProcess.js';

export interface InProcessNode extends ServerHandle {
  /** The node itself, for a test that needs to look inside (its services, its metrics). */
  app: App;
  config: Config;
  /** Whether `stop` has been called. */
  readonly stopped: boolean;
}

export interface StartInProcessNodeOptions {
  /**
   * Variables as a node process would read them, over the defaults: PORT=0, HOST=127.0.0.1,
   * DATA_DIR=a fresh temporary directory, LOG_LEVEL=warn, SHUTDOWN_GRACE_MS=0.
   */
  env?: Record<string, string>;
  /** Reuse a data directory (a node stopped and started again); default: a fresh temporary one. */
  dataDir?: string;
}

const running = new Set<InProcessNode>();
const tempDirs = new Set<string>();

/**
 * Starts a node and resolves once it accepts connections. Defaults differ from a process node's in
 * two places: LOG_LEVEL=warn, because nothing collects the lines (warnings and errors still show
 * in the test output), and SHUTDOWN_GRACE_MS=0, because the grace period exists for balancers to
 * see /readyz turn 503 and no balancer sits in front of an in-process node.
 */
export async function startInProcessNode(options: StartInProcessNodeOptions = {}): Promise<InProcessNode> {
  const dataDir = options.dataDir ?? freshTempDir();
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: '0', ...options.env, DATA_DIR: dataDir });
  const app = await buildApp(config);
  let url: string;
  try {
    url = await app.start();
  } catch (error) {
    await app.stop().catch(() => {});
    throw error;
  }
  const { port } = new URL(url);
  let stopping: Promise<number> | null = null;
  const node: InProcessNode = {
    url,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    port: Number(port),
    dataDir,
    app,
    config,
    get stopped() {
      return stopping !== null;
    },
    // The exit code main.ts would give: 0 once app.stop() resolved, 1 if it failed or took longer
    // than `graceMs` (main.ts gives up after 9 s).
    stop(graceMs = 15_000) {
      stopping ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const tooLong = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(1), graceMs)));
        try {
          return await Promise.race([app.stop().then(() => 0, () => 1), tooLong]);
        } finally {
          clearTimeout(timer);
          running.delete(node);
        }
      })();
      return stopping;
    },
  };
  running.add(node);
  return node;
}

/** For `afterAll`: stops every in-process node this file started that is still running, and removes temp dirs. */
export async function stopAllInProcessNodes(): Promise<void> {
  await Promise.all([...running].map((node) => node.stop()));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function freshTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'roomlog-inproc-'));
  tempDirs.add(dir);
  return dir;
}
