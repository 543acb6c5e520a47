/**
 * The lightest clients that still count as real connections on a node: a raw `ws` socket that
 * does the upgrade and `connection_init` (a node closes sockets that never initialise), nothing
 * else. A thousand of them stay cheap. Also a raw-TCP helper for the timeout tests.
 */
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';

export type Opened = { ok: true; ws: WebSocket; protocol: string } | { ok: false; status: number | null; error: string; ms: number };

/**
 * Opens a WebSocket (from `localAddress`, any of 127.0.0.0/8, to look like another client IP),
 * sends connection_init and waits for connection_ack when `init` is set. Never rejects: a refusal
 * comes back with the HTTP status the balancer or node answered with (null: no HTTP answer).
 */
export function openSocket(
  wsUrl: string,
  options: { init?: boolean; localAddress?: string; headers?: Record<string, string>; protocol?: string; timeoutMs?: number } = {},
): Promise<Opened> {
  const started = Date.now();
  const init = options.init ?? true;
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl, options.protocol ?? 'graphql-transport-ws', {
      localAddress: options.localAddress,
      headers: options.headers,
    });
    let settled = false;
    const settle = (result: Opened) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!result.ok) ws.terminate();
      resolve(result);
    };
    const fail = (status: number | null, error: string) => settle({ ok: false, status, error, ms: Date.now() - started });
    const timer = setTimeout(() => fail(null, `no ${init ? 'connection_ack' : 'open'} within ${options.timeoutMs ?? 10_000} ms`), options.timeoutMs ?? 10_000);
    ws.once('unexpected-response', (_req, res) => {
      fail(res.statusCode ?? null, `HTTP ${res.statusCode}`);
      res.resume();
    });
    ws.on('error', (error) => fail(null, error.message));
    ws.once('close', (code) => fail(null, `closed (${code}) before it was ready`));
    ws.once('open', () => {
      if (!init) return settle({ ok: true, ws, protocol: ws.protocol });
      ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    });
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { type: string };
      if (message.type === 'connection_ack') settle({ ok: true, ws, protocol: ws.protocol });
      else if (message.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
    });
  });
}

/** Like `openSocket`, but throws unless the socket opened. */
export async function mustOpen(wsUrl: string, options: Parameters<typeof openSocket>[1] = {}): Promise<WebSocket> {
  const opened = await openSocket(wsUrl, options);
  if (!opened.ok) throw new Error(`could not open ${wsUrl}: ${opened.error}`);
  return opened.ws;
}

/** Closes a socket and waits (bounded) until it is closed. */
export function closeSocket(ws: WebSocket, timeoutMs = 5_000): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, timeoutMs);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close(1000);
  });
}

/** A raw TCP connection that records what it receives and when it is closed. */
export interface RawTcp {
  socket: Socket;
  received(): string;
  /** Resolves with ms since the connection opened, once the peer has closed it (bounded). */
  closed(timeoutMs: number): Promise<number>;
}

export function rawTcp(port: number, localAddress?: string): Promise<RawTcp> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    let text = '';
    let closedAt: number | null = null;
    let openedAt = 0;
    const onClosed = new Set<() => void>();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => {});
    socket.once('close', () => {
      closedAt = Date.now();
      for (const wake of onClosed) wake();
    });
    socket.once('error', reject);
    socket.once('connect', () => {
      openedAt = Date.now();
      resolve({
        socket,
        received: () => text,
        closed: (timeoutMs) =>
          new Promise((resolveClosed, rejectClosed) => {
            if (closedAt !== null) return resolveClosed(closedAt - openedAt);
            const timer = setTimeout(() => {
              onClosed.delete(wake);
              rejectClosed(new Error(`still open ${Date.now() - openedAt} ms after connecting (received: ${JSON.stringify(text.slice(0, 200))})`));
            }, timeoutMs);
            const wake = () => {
              clearTimeout(timer);
              resolveClosed(closedAt! - openedAt);
            };
            onClosed.add(wake);
          }),
      });
    });
  });
}
