import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import type { BalancerConfig } from './config.js';
import { localDispatcher, type BackendRef, type Dispatcher, type Failure, type Refusal } from './dispatcher.js';
import { proxyHttp, readBody } from './httpProxy.js';
import { proxyUpgrade } from './upgradeProxy.js';

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

/** Tries of one request or upgrade on different nodes, at most (the first and two retries). */
const MAX_TRIES = 3;

/**
 * The connection-count balancer's proxying process: each accepted connection is admitted or
 * refused at once (caps per IP and in total); each request or WebSocket upgrade goes where the
 * dispatcher says (the ready node with the fewest open connections), and to another node when the
 * first never got it; its own /healthz and /metrics are answered here.
 */
export function buildBalancer(config: BalancerConfig, log: Logger, options: BalancerOptions = {}): Balancer {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = {
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
  const dispatcher = options.dispatcher ?? localDispatcher(config, log, registry);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });

  const failed = (reason: string, backend: BackendRef) => (failure: Failure, error: unknown) => {
    metrics.failures.inc({ reason });
    log.warn({ backend: backend.id, failure, error: error instanceof Error ? error.message : String(error) }, 'backend failed');
    dispatcher.failed(backend, failure);
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

  // Admission is per TCP connection, decided when it is accepted: an idle connection counts like a
  // busy one (else idle ones are held past the caps). One refused is not counted: its first
  // request, if it sends one at once, gets the reason (429/503), and it is closed within a second
  // either way. A WebSocket is one connection, and so is a keep-alive HTTP client however many
  // requests it sends. The count is released when the connection closes.
  const refusedLingerMs = Math.min(1_000, config.HEADERS_TIMEOUT_MS);
  const verdicts = new WeakMap<Socket, Promise<Refusal | null>>();
  // A refusal counts in the metrics once it is felt: told to a request or an upgrade, or the idle
  // connection closed; not when the connection only asked for /healthz or /metrics.
  const felt = new WeakSet<Socket>();
  const refusalFelt = (socket: Socket) => {
    if (felt.has(socket)) return;
    felt.add(socket);
    metrics.failures.inc({ reason: 'refused' });
  };
  function admit(socket: Socket): void {
    const ip = socket.remoteAddress ?? 'unknown';
    const verdict = dispatcher.admit(ip).then((refusal) => {
      if (!refusal) {
        if (socket.destroyed) dispatcher.release(ip);
        else socket.once('close', () => dispatcher.release(ip));
        return null;
      }
      const linger = setTimeout(() => {
        refusalFelt(socket);
        socket.destroy();
      }, refusedLingerMs);
      socket.once('close', () => clearTimeout(linger));
      return refusal;
    });
    verdicts.set(socket, verdict);
  }
  const verdictOf = (socket: Socket): Promise<Refusal | null> => verdicts.get(socket) ?? Promise.resolve(null);

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    // Its own endpoints answer whatever the caps say, and close the connection after: a monitor's
    // connection would otherwise sit in its pool, counted against its address.
    if (path === '/healthz') {
      res.setHeader('connection', 'close');
      const [pool, processes] = await Promise.all([dispatcher.status(), options.processes?.()]).catch(() => [null, undefined]);
      if (!pool) return sendStatus(res, 503, { status: 'no answer from the primary' });
      return sendStatus(res, 200, { status: 'ok', panic: pool.panic, backends: pool.backends, ...(processes ? { processes } : {}) });
    }
    if (path === '/metrics') {
      res.setHeader('connection', 'close');
      const text = await (options.metrics ?? (() => registry.metrics()))().catch(() => null);
      if (text === null) return sendStatus(res, 503, { error: 'metrics unavailable' });
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
      return;
    }
    const refusal = await verdictOf(req.socket);
    if (refusal) {
      refusalFelt(req.socket);
      res.setHeader('connection', 'close');
      return sendStatus(res, refusal.status, { error: refusal.reason });
    }
    metrics.requests.inc();
    const body = await readBody(req, config.RETRY_BODY_BYTES);
    if (!body) return; // the client went away while sending it
    let retried: string | null = null;
    for (let tries = 1; ; tries++) {
      const outcome = await dispatcher.dispatch('request');
      if ('noBackend' in outcome) {
        // After a failed try, the client hears of that failure rather than of an empty pool.
        if (retried && retried !== 'draining') return sendStatus(res, 502, { error: 'the node did not answer; retry' });
        if (!retried) metrics.failures.inc({ reason: 'no_backend' });
        res.setHeader('retry-after', '1');
        return sendStatus(res, 503, { error: 'no node is ready; retry shortly' });
      }
      const { backend } = outcome;
      if (res.destroyed) return dispatcher.closed(backend, 'request');
      const result = await proxyHttp({
        agent,
        backend,
        req,
        res,
        body,
        timeoutMs: config.UPSTREAM_TIMEOUT_MS,
        mayRetry: tries < MAX_TRIES,
        failed: failed('http_upstream', backend),
      });
      dispatcher.closed(backend, 'request');
      if (result === 'done' || res.destroyed) return;
      retried = result.retry;
      metrics.retries.inc({ reason: result.retry });
    }
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
    void (async () => {
      const refusal = await verdictOf(req.socket);
      if (refusal) {
        refusalFelt(req.socket);
        return reject(refusal.status === 429 ? '429 Too Many Requests' : '503 Service Unavailable');
      }
      metrics.upgrades.inc();
      let retried: string | null = null;
      for (let tries = 1; ; tries++) {
        const outcome = await dispatcher.dispatch('socket');
        if ('noBackend' in outcome) {
          if (retried && retried !== 'draining') return reject('502 Bad Gateway');
          if (!retried) metrics.failures.inc({ reason: 'no_backend' });
          return reject('503 Service Unavailable');
        }
        const { backend } = outcome;
        if (socket.destroyed) return dispatcher.closed(backend, 'socket');
        const result = await proxyUpgrade({
          backend,
          req,
          client: socket,
          head,
          timeoutMs: config.UPSTREAM_TIMEOUT_MS,
          mayRetry: tries < MAX_TRIES,
          failed: failed('upgrade_upstream', backend),
        });
        dispatcher.closed(backend, 'socket');
        if (result === 'done' || socket.destroyed) return;
        retried = result.retry;
        metrics.retries.inc({ reason: result.retry });
      }
    })();
  });

  let listener: ReturnType<typeof createTcpServer> | null = null;
  const accept = (socket: Socket) => {
    admit(socket);
    server.emit('connection', socket);
    socket.resume();
  };
  return {
    registry,
    accept,
    async start({ listen = true } = {}) {
      await dispatcher.start();
      // Node starts its header/request timeout checks (slowloris) when an HTTP server starts
      // listening; this one is fed by `accept` (so that every connection is admitted first), so
      // say it did.
      server.emit('listening');
      if (!listen) return '';
      const tcp = createTcpServer({ noDelay: true }, accept);
      listener = tcp;
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(config.PORT, config.HOST, () => resolve());
      });
      const { port } = tcp.address() as AddressInfo;
      return `http://${config.HOST}:${port}`;
    },
    async stop() {
      await dispatcher.stop();
      listener?.close();
      server.close();
      server.closeAllConnections();
      for (const socket of upgraded) socket.destroy();
      agent.destroy();
    },
  };
}
