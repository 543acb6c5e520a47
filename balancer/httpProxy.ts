import { request as httpRequest, type Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { BackendRef, Failure } from './dispatcher.js';
import { endToEnd, requestHeaders } from './forwarding.js';

/** A request's body as the balancer holds it: none, read whole (replayable), or streamed through. */
export type RequestBody = { kind: 'none' } | { kind: 'kept'; data: Buffer } | { kind: 'streamed' };

/**
 * How an attempt ended: `done` (the client got an answer, or went away), or a retry: the request
 * can go to another node because this one never got it — `unreached` (no connection), `unsent`
 * (the connection dropped before the whole request was written), `draining` (it refused with 503).
 */
export type AttemptResult = 'done' | { retry: 'unreached' | 'unsent' | 'draining' };

export interface HttpAttempt {
  agent: Agent;
  backend: BackendRef;
  req: IncomingMessage;
  res: ServerResponse;
  body: RequestBody;
  timeoutMs: number;
  /** May a request this node never got be retried elsewhere? (Else the client gets the 502 or the 503.) */
  mayRetry: boolean;
  /** The node failed this request: out of rotation until a health check says otherwise. */
  failed: (failure: Failure, error: unknown) => void;
}

/** How long a client may go on sending a body the node already answered (lingering close). */
const DRAIN_MS = 5_000;

/**
 * Reads a body up to `limit` bytes whole, so it can be sent again; larger or chunked ones are
 * streamed. Null: the client went away first.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<RequestBody | null> {
  const chunked = req.headers['transfer-encoding'] !== undefined;
  const length = Number(req.headers['content-length'] ?? 0);
  if (!chunked && length === 0) return Promise.resolve({ kind: 'none' });
  if (chunked || length > limit) return Promise.resolve({ kind: 'streamed' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve({ kind: 'kept', data: Buffer.concat(chunks) }));
    req.once('error', () => resolve(null));
    req.once('close', () => resolve(req.complete ? { kind: 'kept', data: Buffer.concat(chunks) } : null));
  });
}

/**
 * The node answered before the client finished sending its body (e.g. 413 on the declared
 * length): the rest is read and dropped, so the client reads the answer instead of meeting a
 * reset (closing with unread data makes the kernel send RST, which can discard the answer on
 * the client's side). A client still sending after DRAIN_MS is cut off.
 */
function drainUpload(req: IncomingMessage): void {
  if (req.complete) return;
  req.resume();
  const timer = setTimeout(() => req.socket.destroy(), DRAIN_MS);
  const stop = () => clearTimeout(timer);
  req.once('end', stop);
  req.socket.once('close', stop);
}

/**
 * One try of a plain HTTP request (queries, mutations, GraphiQL, SSE) on one node: streamed both
 * ways with keep-alive to the node, nothing buffered on the way back, so SSE flows as produced.
 *
 * Retried elsewhere (HAProxy's `retry-on conn-failure` with `option redispatch`) only what this
 * node cannot have processed: no connection was made, the connection dropped before the whole
 * request was written, or the node refused it with 503 (draining or starting) — and only when the
 * body can be sent again (kept, or streamed but not begun: streaming waits for the connection).
 * A request the node may have processed (fully written, then no answer) gets 502, never a retry.
 */
export function proxyHttp(attempt: HttpAttempt): Promise<AttemptResult> {
  const { req, res, body, backend } = attempt;
  return new Promise((resolve) => {
    const upstream = httpRequest({
      agent: attempt.agent,
      host: backend.url.hostname,
      port: backend.url.port,
      method: req.method,
      path: req.url,
      headers: requestHeaders(req),
    });
    const tried: HttpTry = {
      attempt,
      upstream,
      resolve,
      settled: false,
      connected: false,
      sent: false,
      bodyStarted: false,
      answered: false,
      stopped: false,
      // A node that takes the request but never answers (frozen, overloaded) gets the client a 504
      // rather than a hang, and is taken out of rotation until its health check passes again.
      timer: setTimeout(() => timedOut(tried), attempt.timeoutMs),
      onClientClose: () => clientClosed(tried),
    };
    res.once('close', tried.onClientClose);
    upstream.once('socket', (socket: Socket) => {
      if (!socket.connecting) {
        tried.connected = true;
        return startBody(tried);
      }
      socket.once('connect', () => {
        tried.connected = true;
        startBody(tried);
      });
    });
    upstream.once('finish', () => (tried.sent = true));
    if (body.kind === 'none') upstream.end();
    else if (body.kind === 'kept') upstream.end(body.data);
    upstream.on('error', (error) => upstreamFailed(tried, error));
    upstream.once('response', (upstreamRes) => answeredBy(tried, upstreamRes));
  });
}

/** One try in progress: what its event handlers share. */
interface HttpTry {
  attempt: HttpAttempt;
  upstream: ClientRequest;
  resolve: (result: AttemptResult) => void;
  settled: boolean;
  connected: boolean;
  sent: boolean;
  bodyStarted: boolean;
  answered: boolean;
  /** We cut the upstream request ourselves (client gone, timeout, early answer). */
  stopped: boolean;
  timer: ReturnType<typeof setTimeout>;
  onClientClose: () => void;
}

const replayable = (tried: HttpTry): boolean => tried.attempt.body.kind !== 'streamed' || !tried.bodyStarted;

function settle(tried: HttpTry, result: AttemptResult): void {
  if (tried.settled) return;
  tried.settled = true;
  clearTimeout(tried.timer);
  tried.attempt.res.off('close', tried.onClientClose);
  tried.resolve(result);
}

function timedOut(tried: HttpTry): void {
  const { attempt, upstream } = tried;
  const { req, res } = attempt;
  if (tried.answered) return;
  tried.stopped = true;
  attempt.failed('timeout', new Error(`no response within ${attempt.timeoutMs} ms`));
  if (!res.headersSent) {
    res.writeHead(504, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'the node did not answer in time; retry' }));
  }
  upstream.destroy();
  req.unpipe(upstream);
  drainUpload(req);
}

function clientClosed(tried: HttpTry): void {
  const { upstream } = tried;
  // The client went away first: the resulting "socket hang up" is no fault of the node.
  if (!upstream.destroyed && !tried.attempt.res.writableFinished) {
    tried.stopped = true;
    upstream.destroy();
  }
  settle(tried, 'done');
}

function startBody(tried: HttpTry): void {
  if (tried.attempt.body.kind !== 'streamed' || tried.settled || tried.upstream.destroyed) return;
  tried.bodyStarted = true;
  tried.attempt.req.pipe(tried.upstream);
}

function upstreamFailed(tried: HttpTry, error: Error): void {
  const { attempt, upstream } = tried;
  const { req, res } = attempt;
  clearTimeout(tried.timer);
  if (tried.settled || tried.stopped) return;
  if (tried.answered) {
    attempt.failed('down', error);
    res.destroy();
    return settle(tried, 'done');
  }
  const neverGotIt = !tried.connected || !tried.sent;
  if (attempt.mayRetry && neverGotIt && replayable(tried) && !res.headersSent) {
    // A kept-alive connection the node had already closed is no sign of a failing node.
    if (!upstream.reusedSocket) attempt.failed('down', error);
    return settle(tried, { retry: tried.connected ? 'unsent' : 'unreached' });
  }
  attempt.failed('down', error);
  if (!res.headersSent) {
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'the node did not answer; retry' }));
  } else res.destroy();
  req.unpipe(upstream);
  drainUpload(req);
  settle(tried, 'done');
}

function answeredBy(tried: HttpTry, upstreamRes: IncomingMessage): void {
  const { attempt, upstream } = tried;
  const { req, res } = attempt;
  tried.answered = true;
  clearTimeout(tried.timer);
  if (upstreamRes.statusCode === 503 && attempt.mayRetry && replayable(tried) && !res.headersSent) {
    upstreamRes.resume();
    if (!tried.sent) {
      tried.stopped = true;
      upstream.destroy(); // mid-request: the connection cannot be reused
    }
    attempt.failed('draining', new Error('the node refused the request with 503 (draining or starting)'));
    return settle(tried, { retry: 'draining' });
  }
  if (!tried.sent) {
    // An early answer: stop forwarding the body, drop the connection to the node once the
    // answer is in (it is mid-request), and let the client finish its upload into nothing.
    tried.stopped = true;
    req.unpipe(upstream);
    upstreamRes.once('end', () => upstream.destroy());
    drainUpload(req);
  }
  res.writeHead(upstreamRes.statusCode ?? 502, endToEnd(upstreamRes.headers));
  upstreamRes.pipe(res);
  upstreamRes.once('error', () => res.destroy());
}
