import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { Admission, type Refusal } from './admission.js';
import { BackendPool } from './backendPool.js';
import type { BalancerConfig } from './config.js';
import { discoverBackends } from './discovery.js';
import { proxyHttp, proxyUpgrade } from './proxy.js';

export interface Balancer {
  start(): Promise<string>;
  stop(): Promise<void>;
  pool: BackendPool;
}

/**
 * The connection-count balancer: each new connection (WebSocket upgrade or HTTP request) goes to
 * the ready node with the fewest open connections. Its own /healthz and /metrics are answered
 * here; everything else is proxied.
 */
export function buildBalancer(config: BalancerConfig, log: Logger): Balancer {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = {
    upgrades: new Counter({ name: 'balancer_upgrades_total', help: 'WebSocket upgrades proxied', registers: [registry] }),
    requests: new Counter({ name: 'balancer_http_requests_total', help: 'HTTP requests proxied', registers: [registry] }),
    failures: new Counter({ name: 'balancer_failures_total', help: 'Connections that failed', labelNames: ['reason'], registers: [registry] }),
    ejections: new Counter({ name: 'balancer_ejections_total', help: 'Backends taken out of rotation', labelNames: ['backend'], registers: [registry] }),
  };
  const pool = new BackendPool({
    healthIntervalMs: config.HEALTH_INTERVAL_MS,
    healthTimeoutMs: config.HEALTH_TIMEOUT_MS,
    onChange: (backend, event) => {
      if (event === 'ejected') metrics.ejections.inc({ backend: backend.id });
      log.info({ backend: backend.id, event }, `backend ${event}`);
    },
  });
  new Gauge({
    name: 'balancer_connections',
    help: 'Open connections through this balancer, per backend',
    labelNames: ['backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const backend of pool.list()) this.set({ backend: backend.id }, backend.open);
    },
  });
  const admission = new Admission({
    maxTotal: config.MAX_CONNECTIONS,
    maxPerIp: config.MAX_CONNECTIONS_PER_IP,
    ratePerIp: config.NEW_CONNECTIONS_PER_SECOND_PER_IP,
    burstPerIp: config.NEW_CONNECTIONS_BURST_PER_IP,
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  for (const url of config.BACKENDS) pool.add(url, 'static');

  const failed = (reason: string) => (backend: { id: string } & Parameters<BackendPool['eject']>[0], error: unknown) => {
    metrics.failures.inc({ reason });
    log.warn({ backend: backend.id, err: error }, 'backend failed');
    pool.eject(backend);
  };

  // Node checks headersTimeout/requestTimeout only every connectionsCheckingInterval (30 s by
  // default), which would let a slowloris client hold a socket for 30 s whatever the setting.
  const checkEveryMs = Math.max(50, Math.min(1_000, Math.floor(config.HEADERS_TIMEOUT_MS / 4)));
  const server = createServer({ connectionsCheckingInterval: checkEveryMs }, (req, res) => handleRequest(req, res));
  server.headersTimeout = config.HEADERS_TIMEOUT_MS;
  server.requestTimeout = config.HEADERS_TIMEOUT_MS * 3;
  server.keepAliveTimeout = config.IDLE_TIMEOUT_MS;
  server.timeout = config.IDLE_TIMEOUT_MS;

  function sendStatus(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  // Admission is per TCP connection, not per request: a WebSocket is one, and a keep-alive HTTP
  // client is one however many requests it sends. It is decided at the connection's first
  // proxied request (the balancer's own /healthz and /metrics are not counted) and released when
  // the connection closes.
  const admitted = new WeakSet<Socket>();
  function admit(socket: Socket): Refusal | null {
    if (admitted.has(socket)) return null;
    const ip = socket.remoteAddress ?? 'unknown';
    const refusal = admission.admit(ip);
    if (refusal) {
      metrics.failures.inc({ reason: 'refused' });
      return refusal;
    }
    admitted.add(socket);
    socket.once('close', () => admission.release(ip));
    return null;
  }

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return sendStatus(res, 200, { status: 'ok', backends: pool.list().map(({ id, ready, open }) => ({ id, ready, open })) });
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(await registry.metrics());
      return;
    }
    const refusal = admit(req.socket);
    if (refusal) {
      res.setHeader('connection', 'close');
      return sendStatus(res, refusal.status, { error: refusal.reason });
    }
    const backend = pool.pick();
    if (!backend) {
      metrics.failures.inc({ reason: 'no_backend' });
      res.setHeader('retry-after', '1');
      return sendStatus(res, 503, { error: 'no node is ready; retry shortly' });
    }
    metrics.requests.inc();
    pool.opened(backend);
    proxyHttp(agent, backend, req, res, config.UPSTREAM_TIMEOUT_MS, {
      failed: failed('http_upstream'),
      done: () => pool.closed(backend),
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
    const reject = (status: string) => socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    const refusal = admit(req.socket);
    if (refusal) return reject(refusal.status === 429 ? '429 Too Many Requests' : '503 Service Unavailable');
    const attempt = (tries: number): void => {
      const backend = pool.pick();
      if (!backend) {
        metrics.failures.inc({ reason: 'no_backend' });
        reject('503 Service Unavailable');
        return;
      }
      if (tries === 0) metrics.upgrades.inc();
      pool.opened(backend);
      proxyUpgrade(backend, req, socket, head, config.UPSTREAM_TIMEOUT_MS, {
        failed: failed('upgrade_upstream'),
        // A draining node refused: the next pick skips it (it was just ejected). Twice at most.
        retry:
          tries < 2
            ? () => {
                pool.closed(backend);
                attempt(tries + 1);
              }
            : undefined,
        done: () => pool.closed(backend),
      });
    };
    attempt(0);
  });


  let discovery: { stop: () => void } | null = null;
  const sweep = setInterval(() => admission.sweep(), 10_000);
  sweep.unref();

  return {
    pool,
    async start() {
      pool.start();
      if (config.REDIS_URL) {
        discovery = discoverBackends({
          url: config.REDIS_URL,
          prefix: config.REDIS_PREFIX,
          intervalMs: config.HEALTH_INTERVAL_MS,
          onBackends: (urls) => pool.setDiscovered(urls),
          onError: (error) => log.warn({ err: error }, 'discovery failed'),
        });
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.PORT, config.HOST, () => resolve());
      });
      const { port } = server.address() as AddressInfo;
      return `http://${config.HOST}:${port}`;
    },
    async stop() {
      clearInterval(sweep);
      pool.stop();
      discovery?.stop();
      server.close();
      server.closeAllConnections();
      for (const socket of upgraded) socket.destroy();
      agent.destroy();
    },
  };
}
