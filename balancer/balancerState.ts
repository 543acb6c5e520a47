import type { Agent, Server, ServerResponse } from 'node:http';
import type { Server as TcpServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { BalancerConfig } from './config.js';
import type { BackendRef, Dispatcher, Failure, Refusal } from './dispatcher.js';
import type { BalancerOptions } from './server.js';

/** Tries of one request or upgrade on different nodes, at most (the first and two retries). */
export const MAX_TRIES = 3;

/** What every part of one balancer process works on: buildBalancer (server.ts) makes it. */
export interface BalancerState {
  config: BalancerConfig;
  log: Logger;
  options: BalancerOptions;
  registry: Registry;
  metrics: BalancerMetrics;
  dispatcher: Dispatcher;
  agent: Agent;
  server: Server;
  /** Each accepted connection's admission, decided at accept (admitAtAccept.ts). */
  verdicts: WeakMap<Socket, Promise<Refusal | null>>;
  /** Refused connections whose refusal is already counted (admitAtAccept.ts, refusalFelt). */
  felt: WeakSet<Socket>;
  /** How long a refused connection may stay open to hear why. */
  refusedLingerMs: number;
  /**
   * Upgraded sockets leave the HTTP server's bookkeeping (closeAllConnections does not see them),
   * so stop() closes them from here.
   */
  upgraded: Set<Duplex>;
  /** The TCP listener when `start` listens itself. */
  listener: TcpServer | null;
}

export type BalancerMetrics = ReturnType<typeof createBalancerMetrics>;

export function createBalancerMetrics(registry: Registry) {
  return {
    upgrades: new Counter({ name: 'balancer_upgrades_total', help: 'WebSocket upgrades proxied', registers: [registry] }),
    requests: new Counter({ name: 'balancer_http_requests_total', help: 'HTTP requests proxied', registers: [registry] }),
    failures: new Counter({ name: 'balancer_failures_total', help: 'Connections that failed', labelNames: ['reason'], registers: [registry] }),
    retries: new Counter({
      name: 'balancer_retries_total',
      help: 'Requests and upgrades sent to another node because the first never got them',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}

/** What a try calls when `backend` failed it: counted, logged, and told to the dispatcher. */
export const failedOn =
  (state: BalancerState, reason: string, backend: BackendRef) =>
  (failure: Failure, error: unknown): void => {
    state.metrics.failures.inc({ reason });
    state.log.warn({ backend: backend.id, failure, error: error instanceof Error ? error.message : String(error) }, 'backend failed');
    state.dispatcher.failed(backend, failure);
  };

export function sendStatus(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
