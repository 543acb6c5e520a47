/**
 * A tiny in-process backend for the proxy and timeout tests: it answers /readyz like a node (200
 * or 503, with `connections`) and reports back exactly what reached it — request headers, the
 * WebSocket upgrade's headers and subprotocol — which a real node does not expose. Its upgrade
 * handling can be switched to misbehave: hang (accept TCP, never answer), die mid-handshake, or
 * refuse with 503 as a draining node does before the balancer's health check has noticed.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';

export type UpgradeMode = 'echo' | 'hang' | 'die' | 'draining';
/**
 * Plain HTTP: `draining` refuses every request with 503 as a draining node does; `reset` reads
 * the whole request, then drops the connection without a byte of answer (a node that died
 * while processing it).
 */
export type HttpMode = 'echo' | 'draining' | 'reset';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  /** The TCP peer: the balancer. */
  remoteAddress: string;
  /** The TCP connection it came on (the same one again means keep-alive). */
  connection: number;
}

export interface FakeBackend {
  url: string;
  port: number;
  /** Every HTTP request and upgrade that reached it (health checks excluded). */
  requests: SeenRequest[];
  upgrades: SeenRequest[];
  readyStatus: number;
  /** What /readyz says in `status` when not 200 (default `draining`; a node whose store fails says `unavailable`). */
  unreadyState: string;
  upgradeMode: UpgradeMode;
  httpMode: HttpMode;
  /** Open WebSockets (what /readyz reports as `connections`). */
  connections(): number;
  close(): Promise<void>;
}

export async function startFakeBackend(
  options: { upgradeMode?: UpgradeMode; readyStatus?: number; unreadyState?: string; httpMode?: HttpMode } = {},
): Promise<FakeBackend> {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => [...protocols][0] ?? false });
  const sockets = new Set<Socket>();
  const connectionIds = new WeakMap<Socket, number>();
  let nextConnection = 0;
  const seen = (req: IncomingMessage): SeenRequest => ({
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    remoteAddress: req.socket.remoteAddress ?? '',
    connection: connectionIds.get(req.socket) ?? -1,
  });

  const server: Server = createServer((req, res) => {
    if (req.url === '/readyz') {
      res.writeHead(backend.readyStatus, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: backend.readyStatus === 200 ? 'ready' : backend.unreadyState, connections: wss.clients.size }));
      return;
    }
    const request = seen(req);
    backend.requests.push(request);
    if (backend.httpMode === 'draining') {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ errors: [{ message: 'this node is shutting down; retry on another', extensions: { code: 'UNAVAILABLE' } }] }));
      return;
    }
    if (backend.httpMode === 'reset') {
      req.resume();
      req.once('end', () => req.socket.resetAndDestroy());
      return;
    }
    if (req.url === '/sse') {
      // Five events 200 ms apart: the client must see the first long before the last is written.
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let sent = 0;
      const tick = setInterval(() => {
        res.write(`event: tick\ndata: ${JSON.stringify({ n: ++sent, at: Date.now() })}\n\n`);
        if (sent === 5) {
          clearInterval(tick);
          res.end();
        }
      }, 200);
      res.once('close', () => clearInterval(tick));
      return;
    }
    if (req.url === '/hang') return; // takes the request, never answers (a frozen node)
    if (req.url === '/slow') {
      // Answers after a second (a long query): for clients that give up first.
      const timer = setTimeout(() => res.end('slow'), 1_000);
      res.once('close', () => clearTimeout(timer));
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend-port': String(backend.port) });
      res.end(JSON.stringify({ ...request, body }));
    });
  });
  server.on('connection', (socket: Socket) => {
    connectionIds.set(socket, nextConnection++);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const request = seen(req);
    backend.upgrades.push(request);
    if (backend.upgradeMode === 'hang') return; // accepted TCP, read the request, never answers
    if (backend.upgradeMode === 'die') return socket.destroy();
    if (backend.upgradeMode === 'draining') return socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify(request));
      ws.on('message', (data) => ws.send(data.toString()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const backend: FakeBackend = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: [],
    upgrades: [],
    readyStatus: options.readyStatus ?? 200,
    unreadyState: options.unreadyState ?? 'draining',
    upgradeMode: options.upgradeMode ?? 'echo',
    httpMode: options.httpMode ?? 'echo',
    connections: () => wss.clients.size,
    async close() {
      for (const client of wss.clients) client.terminate();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      wss.close();
    },
  };
  return backend;
}
