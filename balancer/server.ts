import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { admit } from './admitAtAccept.js';
import { createBalancerMetrics, type BalancerState } from './balancerState.js';
import type { BalancerConfig } from './config.js';
import { localDispatcher, type Dispatcher } from './dispatcher.js';
import { routeRequest } from './requestRouting.js';
import { routeUpgrade } from './upgradeRouting.js';

export interface Balancer {
  /** Listens on PORT/HOST and resolves with its URL; `{ listen: false }`: only `accept` feeds it. */
  start(options?: { listen?: boolean }): Promise<string>;
  /** Serves a connection accepted elsewhere (by the primary's or a worker's copy of the listening socket). */
  accept(socket: Socket): void;
  stop(): Promise<void>;
  /** This process's metrics (a worker's are merged by the primary). */
  registry: Registry;
}

export interface BalancerOptions {
  /** Default: a dispatcher in this process. Workers use the primary's. */
  dispatcher?: Dispatcher;
  /** What /metrics answers; default this process's registry. Workers answer the merged view. */
  metrics?: () => Promise<string>;
  /** With several processes: each one's open connections, for /healthz. */
  processes?: () => Promise<Array<{ pid: number; open: number }>>;
}

/**
 * The connection-count balancer's proxying process: each accepted connection is admitted or
 * refused at once (caps per IP and in total); each request or WebSocket upgrade goes where the
 * dispatcher says (the ready node with the fewest open connections), and to another node when the
 * first never got it; its own /healthz and /metrics are answered here.
 *
 * The parts: admitAtAccept.ts (admission), requestRouting.ts and upgradeRouting.ts (where each
 * request or upgrade goes, and the retries), ownEndpoints.ts (/healthz, /metrics); the state they
 * share is balancerState.ts.
 */
export function buildBalancer(config: BalancerConfig, log: Logger, options: BalancerOptions = {}): Balancer {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = createBalancerMetrics(registry);
  const dispatcher = options.dispatcher ?? localDispatcher(config, log, registry);
  const state: BalancerState = {
    config,
    log,
    options,
    registry,
    metrics,
    dispatcher,
    agent: new Agent({ keepAlive: true, maxSockets: 256 }),
    server: createHttpServer(config, (req, res) => void routeRequest(state, req, res)),
    verdicts: new WeakMap(),
    felt: new WeakSet(),
    refusedLingerMs: Math.min(1_000, config.HEADERS_TIMEOUT_MS),
    upgraded: new Set(),
    listener: null,
  };
  state.server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => routeUpgrade(state, req, socket, head));
  return {
    registry,
    accept: (socket) => accept(state, socket),
    start: (startOptions) => start(state, startOptions),
    stop: () => stop(state),
  };
}

function createHttpServer(config: BalancerConfig, onRequest: (req: IncomingMessage, res: ServerResponse) => void): Server {
  // Node checks headersTimeout/requestTimeout only every connectionsCheckingInterval (30 s by
  // default), which would let a slowloris client hold a socket for 30 s whatever the setting.
  const checkEveryMs = Math.max(50, Math.min(1_000, Math.floor(config.HEADERS_TIMEOUT_MS / 4)));
  const server = createServer({ connectionsCheckingInterval: checkEveryMs }, onRequest);
  server.headersTimeout = config.HEADERS_TIMEOUT_MS;
  server.requestTimeout = config.HEADERS_TIMEOUT_MS * 3;
  server.keepAliveTimeout = config.IDLE_TIMEOUT_MS;
  server.timeout = config.IDLE_TIMEOUT_MS;
  return server;
}

/** Every connection is admitted (or refused) first, then served by the HTTP server. */
function accept(state: BalancerState, socket: Socket): void {
  admit(state, socket);
  state.server.emit('connection', socket);
  socket.resume();
}

async function start(state: BalancerState, { listen = true }: { listen?: boolean } = {}): Promise<string> {
  const { config } = state;
  await state.dispatcher.start();
  // Node starts its header/request timeout checks (slowloris) when an HTTP server starts
  // listening; this one is fed by `accept` (so that every connection is admitted first), so
  // say it did.
  state.server.emit('listening');
  if (!listen) return '';
  const tcp = createTcpServer({ noDelay: true }, (socket) => accept(state, socket));
  state.listener = tcp;
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(config.PORT, config.HOST, () => resolve());
  });
  const { port } = tcp.address() as AddressInfo;
  return `http://${config.HOST}:${port}`;
}

async function stop(state: BalancerState): Promise<void> {
  await state.dispatcher.stop();
  state.listener?.close();
  state.server.close();
  state.server.closeAllConnections();
  // Upgraded sockets are not the HTTP server's any more (see BalancerState.upgraded).
  for (const socket of state.upgraded) socket.destroy();
  state.agent.destroy();
}
