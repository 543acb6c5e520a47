import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import type { BalancerConfig } from './config.js';
import { localDispatcher, type BackendRef, type Dispatch, type Dispatcher } from './dispatcher.js';
import { proxyHttp, proxyUpgrade } from './proxy.js';

export interface Balancer {
  /** Listens on PORT/HOST and resolves with its URL; `{ listen: false }`: only `accept` feeds it. */
  start(options?: { listen?: boolean }): Promise<string>;
  /** Serves a connection accepted elsewhere (by the primary, which may have passed it to this process). */
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
 * The connection-count balancer's proxying process: each new connection (WebSocket upgrade or
 * HTTP request) goes where the dispatcher says (the ready node with the fewest open connections);
 * its own /healthz and /metrics are answered here; everything else is proxied.
 */
export function buildBalancer(config: BalancerConfig, log: Logger, options: BalancerOptions = {}): Balancer {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = {
    upgrades: new Counter({ name: 'balancer_upgrades_total', help: 'WebSocket upgrades proxied', registers: [registry] }),
    requests: new Counter({ name: 'balancer_http_requests_total', help: 'HTTP requests proxied', registers: [registry] }),
    failures: new Counter({ name: 'balancer_failures_total', help: 'Connections that failed', labelNames: ['reason'], registers: [registry] }),
  };
  const dispatcher = options.dispatcher ?? localDispatcher(config, log, registry);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });

  const failed = (reason: string) => (backend: BackendRef, error: unknown) => {
    metrics.failures.inc({ reason });
    log.warn({ backend: backend.id, err: error }, 'backend failed');
    dispatcher.failed(backend);
  };

  // Node checks headersTimeout/requestTimeout only every connectionsCheckingInterval (30 s by
  // default), which would let a slowloris client hold a socket for 30 s whatever the setting.
  const checkEveryMs = Math.max(50, Math.min(1_000, Math.floor(config.HEADERS_TIMEOUT_MS / 4)));
  const server = createServer({ connectionsCheckingInterval: checkEveryMs }, (req, res) => void handleRequest(req, res));
  server.headersTimeout = config.HEADERS_TIMEOUT_MS;
  server.requestTimeout = config.HEADERS_TIMEOUT_MS * 3;
  server.keepAliveTimeout = config.IDLE_TIMEOUT_MS;
  server.timeout = config.IDLE_TIMEOUT_MS;

  function sendStatus(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  // Admission is per TCP connection, not per request: a WebSocket is one, and a keep-alive HTTP
  // client is one however many requests it sends. It is decided with the connection's first
  // proxied request (the balancer's own /healthz and /metrics are not counted) and released when
  // the connection closes. Later requests on it only pick a backend.
  const admitted = new WeakSet<Socket>();
  async function dispatch(socket: Socket): Promise<Dispatch> {
    if (admitted.has(socket)) return dispatcher.dispatch(null);
    const ip = socket.remoteAddress ?? 'unknown';
    admitted.add(socket);
    const outcome = await dispatcher.dispatch(ip);
    if ('refused' in outcome) {
      admitted.delete(socket);
      metrics.failures.inc({ reason: 'refused' });
      return outcome;
    }
    if (socket.destroyed) dispatcher.release(ip);
    else socket.once('close', () => dispatcher.release(ip));
    return outcome;
  }

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      const [backends, processes] = await Promise.all([dispatcher.status(), options.processes?.()]).catch(() => [null, undefined]);
      if (!backends) return sendStatus(res, 503, { status: 'no answer from the primary' });
      return sendStatus(res, 200, { status: 'ok', backends, ...(processes ? { processes } : {}) });
    }
    if (path === '/metrics') {
      const text = await (options.metrics ?? (() => registry.metrics()))().catch(() => null);
      if (text === null) return sendStatus(res, 503, { error: 'metrics unavailable' });
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
      return;
    }
    const outcome = await dispatch(req.socket);
    if ('refused' in outcome) {
      res.setHeader('connection', 'close');
      return sendStatus(res, outcome.refused.status, { error: outcome.refused.reason });
    }
    if ('noBackend' in outcome) {
      metrics.failures.inc({ reason: 'no_backend' });
      res.setHeader('retry-after', '1');
      return sendStatus(res, 503, { error: 'no node is ready; retry shortly' });
    }
    const { backend } = outcome;
    metrics.requests.inc();
    proxyHttp(agent, backend, req, res, config.UPSTREAM_TIMEOUT_MS, {
      failed: failed('http_upstream'),
      done: () => dispatcher.closed(backend),
    });
  }

  // Upgraded sockets leave the HTTP server's bookkeeping (closeAllConnections does not see them),
  // so stop() closes them from here.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // The HTTP server armed its idle timer on this socket and, on upgrade, removes only the
    // listener: the timer would still be re-armed on every chunk piped. Idle WebSockets are the
    // node's to close (its pings), so disarm it.
    (socket as Socket).setTimeout(0);
    socket.on('error', () => socket.destroy());
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    const reject = (status: string): void => void socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    const attempt = async (tries: number): Promise<void> => {
      const outcome = tries === 0 ? await dispatch(req.socket) : await dispatcher.dispatch(null);
      if (socket.destroyed) {
        if ('backend' in outcome) dispatcher.closed(outcome.backend);
        return;
      }
      if ('refused' in outcome) return reject(outcome.refused.status === 429 ? '429 Too Many Requests' : '503 Service Unavailable');
      if ('noBackend' in outcome) {
        metrics.failures.inc({ reason: 'no_backend' });
        return reject('503 Service Unavailable');
      }
      const { backend } = outcome;
      if (tries === 0) metrics.upgrades.inc();
      proxyUpgrade(backend, req, socket, head, config.UPSTREAM_TIMEOUT_MS, {
        failed: failed('upgrade_upstream'),
        // A draining node refused: the next pick skips it (it was just ejected). Twice at most.
        retry:
          tries < 2
            ? () => {
                dispatcher.closed(backend);
                void attempt(tries + 1);
              }
            : undefined,
        done: () => dispatcher.closed(backend),
      });
    };
    void attempt(0);
  });

  return {
    registry,
    accept(socket) {
      server.emit('connection', socket);
      socket.resume();
    },
    async start({ listen = true } = {}) {
      await dispatcher.start();
      if (!listen) {
        // Node starts its header/request timeout checks (slowloris) when an HTTP server starts
        // listening; fed with `accept` only, this one never does, so say it did.
        server.emit('listening');
        return '';
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.PORT, config.HOST, () => resolve());
      });
      const { port } = server.address() as AddressInfo;
      return `http://${config.HOST}:${port}`;
    },
    async stop() {
      await dispatcher.stop();
      server.close();
      server.closeAllConnections();
      for (const socket of upgraded) socket.destroy();
      agent.destroy();
    },
  };
}
