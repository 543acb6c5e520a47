/**
 * The balancer (balancer/main.ts) as a real child process on 127.0.0.1, for the end-to-end tests
 * in test/balancer/. Like nodeProcess.ts, every balancer started here is registered, so a test
 * file's `afterAll(killAllBalancers)` disposes of whatever a failed test left running.
 */
import type { ChildProcess } from 'node:child_process';
import { exited, killNow, listeningPort, stopGracefully, spawnLogged } from './loggedProcess.js';
import type { NodeHandle } from './nodeProcess.js';
import { sleep } from './gql.js';

export interface BackendStatus {
  id: string;
  ready: boolean;
  open: number;
}

export interface BalancerHandle {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** `ws://127.0.0.1:<port>/graphql`. */
  wsUrl: string;
  port: number;
  env: Record<string, string>;
  process: ChildProcess;
  /** Everything it printed, stdout and stderr, one entry per line. */
  logs: string[];
  /** SIGTERM, and wait for the exit (SIGKILL after `graceMs`); resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** Resolves with the first log line that matches, waiting up to `timeoutMs`. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Its own /healthz: every backend it knows, whether it is in rotation, its open connections. */
  backends(): Promise<BackendStatus[]>;
  /** Its own /metrics, as text. */
  metrics(): Promise<string>;
  /** Waits (bounded) until `predicate(backends)` holds; rejects with the last list otherwise. */
  waitForBackends(predicate: (backends: BackendStatus[]) => boolean, timeoutMs?: number, label?: string): Promise<BackendStatus[]>;
}

export interface StartBalancerOptions {
  /** Added to (and overriding) PORT=0, HOST=127.0.0.1, LOG_LEVEL=info. Give BACKENDS or REDIS_URL. */
  env: Record<string, string>;
  /** How long to wait for the `listening on` line. */
  timeoutMs?: number;
}

const LISTENING = /balancer listening on http:\/\/127\.0\.0\.1:(\d+)/;
const live = new Set<ChildProcess>();


/** Starts a balancer and resolves once it prints `balancer listening on` (rejects, killing it, otherwise). */
export async function startBalancer(options: StartBalancerOptions): Promise<BalancerHandle> {
  const env = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...options.env };
  const { child, logs, waitForLog: waitFor } = spawnLogged('balancer/main.ts', env, 'balancer');
  live.add(child);
  child.once('exit', () => live.delete(child));
  const waitForLog = (pattern: RegExp, timeoutMs = 10_000) => waitFor(pattern, timeoutMs);

  const port = await listeningPort({ child, waitForLog }, LISTENING, options.timeoutMs ?? 30_000);
  const url = `http://127.0.0.1:${port}`;

  const backends = async (): Promise<BackendStatus[]> => {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as { backends: BackendStatus[] };
    return body.backends;
  };

  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    port,
    env,
    process: child,
    logs,
    stop: (graceMs = 10_000) => stopGracefully(child, graceMs),
    kill: () => killNow(child),
    waitForLog,
    backends,
    async metrics() {
      const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) });
      return response.text();
    },
    async waitForBackends(predicate, timeoutMs = 10_000, label = 'backends') {
      const deadline = Date.now() + timeoutMs;
      let last: BackendStatus[] | string = 'no answer yet';
      for (;;) {
        try {
          const list = await backends();
          last = list;
          if (predicate(list)) return list;
        } catch (error) {
          last = String(error);
        }
        if (Date.now() > deadline) throw new Error(`${label}: not reached within ${timeoutMs} ms; last /healthz backends: ${JSON.stringify(last)}`);
        await sleep(50);
      }
    },
  };
}

/** The /healthz entry for `node` (backends are keyed by origin). */
export const backendOf = (list: BackendStatus[], node: { url: string }): BackendStatus | undefined => list.find((b) => b.id === node.url);

/**
 * To a client a balancer looks like one node: this lets the cluster helpers (RoomFollower,
 * sendOnce, sendUntilAcked), which only use a handle's url, wsUrl, port and process, go through it.
 */
export function viaBalancer(balancer: BalancerHandle): NodeHandle {
  return {
    url: balancer.url,
    wsUrl: balancer.wsUrl,
    port: balancer.port,
    dataDir: '',
    process: balancer.process,
    logs: balancer.logs,
    stop: balancer.stop,
    kill: balancer.kill,
    waitForLog: balancer.waitForLog,
  };
}

/** For `afterAll`: SIGKILLs every balancer this file started that is still running. */
export async function killAllBalancers(): Promise<void> {
  const running = [...live];
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(running.map(exited));
}

// Last resort if the test process itself goes away: no orphaned balancers.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
