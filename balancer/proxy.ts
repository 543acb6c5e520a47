import { Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { BackendRef as Backend } from './dispatcher.js';

// Hop-by-hop headers are for one connection only and must not be forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/** The client's address as the next hop should see it: appended to any X-Forwarded-For it sent. */
export function forwardedFor(request: IncomingMessage): string {
  const previous = request.headers['x-forwarded-for'];
  const client = request.socket.remoteAddress ?? '';
  return previous ? `${Array.isArray(previous) ? previous.join(', ') : previous}, ${client}` : client;
}

export interface ProxyHooks {
  /** The backend could not be reached: eject it. */
  failed: (backend: Backend, error: unknown) => void;
  /**
   * Upgrades only: the node refused with 503 before the handshake (it is draining and the health
   * check has not seen it yet); try another node with the same client. This attempt then ends
   * without calling `done`.
   */
  retry?: () => void;
  /** The connection is over (either side closed): release its counts. Called exactly once. */
  done: () => void;
}

/**
 * Plain HTTP (queries, mutations, GraphiQL, SSE): streamed both ways, keep-alive to backends.
 * Nothing is buffered, so SSE flows as it is produced.
 */
export function proxyHttp(agent: Agent, backend: Backend, req: IncomingMessage, res: ServerResponse, timeoutMs: number, hooks: ProxyHooks): void {
  let finished = false;
  const done = () => {
    if (!finished) {
      finished = true;
      hooks.done();
    }
  };
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  headers['x-forwarded-for'] = forwardedFor(req);
  headers['x-forwarded-proto'] = 'http';
  const upstream = httpRequest(
    { agent, host: backend.url.hostname, port: backend.url.port, method: req.method, path: req.url, headers },
    (upstreamRes) => {
      clearTimeout(timer);
      const responseHeaders: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(upstreamRes.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) responseHeaders[name] = value;
      res.writeHead(upstreamRes.statusCode ?? 502, responseHeaders);
      upstreamRes.pipe(res);
      upstreamRes.once('error', () => res.destroy());
    },
  );
  // Set when the CLIENT went away first and we cut the upstream request ourselves: the
  // resulting "socket hang up" is no fault of the backend and must not eject it.
  let clientGone = false;
  // A node that takes the request but never answers (frozen, overloaded) gets the client a 504
  // rather than a hang, and is taken out of rotation until its health check passes again.
  let timedOut = false;
  const timer = setTimeout(() => {
    if (res.headersSent) return;
    timedOut = true;
    hooks.failed(backend, new Error(`no response within ${timeoutMs} ms`));
    res.writeHead(504, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'the node did not answer in time; retry' }));
    upstream.destroy();
  }, timeoutMs);
  upstream.once('error', (error) => {
    clearTimeout(timer);
    if (clientGone || timedOut) return done();
    hooks.failed(backend, error);
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'the node did not answer; retry' }));
    } else res.destroy();
    done();
  });
  res.once('close', () => {
    clearTimeout(timer);
    if (!upstream.destroyed && !res.writableFinished) {
      clientGone = true;
      upstream.destroy();
    }
    done();
  });
  req.pipe(upstream);
}

/**
 * A WebSocket upgrade: the request head is re-sent to the backend as is (subprotocol and all
 * headers kept, X-Forwarded-For added), and once the backend answers, bytes are piped both ways
 * with no per-message work. A backend that fails before answering gets the client a 502 (never a
 * hang); one that does not answer within `timeoutMs` likewise.
 */
export function proxyUpgrade(backend: Backend, req: IncomingMessage, client: Duplex, head: Buffer, timeoutMs: number, hooks: ProxyHooks): void {
  let finished = false;
  let answered = false;
  const done = () => {
    if (!finished) {
      finished = true;
      hooks.done();
    }
  };
  const upstream: Socket = connect({ host: backend.url.hostname, port: Number(backend.url.port) });
  upstream.setNoDelay(true);
  (client as Socket).setNoDelay?.(true);
  let refused = false;
  const refuse = (status: string) => {
    // Once only: a failed connect reports 'error' and then 'close', and a second call would
    // destroy the client before the first status line is flushed.
    if (refused) return;
    refused = true;
    if (!answered && client.writable) client.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else client.destroy();
  };
  const timer = setTimeout(() => {
    if (answered) return;
    hooks.failed(backend, new Error('upgrade timed out'));
    refuse('504 Gateway Timeout');
    upstream.destroy();
  }, timeoutMs);

  upstream.once('connect', () => {
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      if (name.toLowerCase() === 'x-forwarded-for') continue;
      lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
    }
    lines.push(`X-Forwarded-For: ${forwardedFor(req)}`, 'X-Forwarded-Proto: http');
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream);
  });
  let retried = false;
  upstream.once('data', (first: Buffer) => {
    answered = true;
    clearTimeout(timer);
    if (hooks.retry && first.subarray(0, 12).toString('latin1') === 'HTTP/1.1 503') {
      retried = true;
      client.unpipe(upstream);
      upstream.destroy();
      hooks.failed(backend, new Error('the node refused the upgrade with 503 (draining)'));
      hooks.retry();
      return;
    }
    client.write(first);
    // Not `end`ing the client when the node ends: if it hangs up before answering, the client
    // must still get the 502 from the 'close' handler below, not a bare hang-up.
    upstream.pipe(client, { end: false });
  });
  upstream.once('error', (error) => {
    if (retried) return;
    if (!answered) {
      hooks.failed(backend, error);
      refuse('502 Bad Gateway');
    } else client.destroy();
  });
  client.once('error', () => upstream.destroy());
  upstream.once('close', () => {
    clearTimeout(timer);
    if (retried) return;
    if (!answered) refuse('502 Bad Gateway');
    else client.end(); // flush what the node sent last (its close frame), then close
    done();
  });
  client.once('close', () => {
    if (retried) return;
    upstream.destroy();
    done();
  });
}
