import WebSocket from 'ws';

/**
 * The graphql-ws protocol (subprotocol `graphql-transport-ws`) spoken by hand over a raw `ws`
 * socket: the graphql-ws client library costs too much per socket for 5,000 of them in one process.
 *
 * Subscriptions use ids starting with `s`, operations (mutations) ids starting with `m`, so the
 * hot path can recognise a subscription `next` without decoding or parsing the frame: inside JSON
 * string values a quote is always escaped, so the bytes `"id":"s` can only be the message's own id.
 * Subscription handlers get the raw Buffer.
 */

export interface OperationResult {
  data?: Record<string, unknown> | null;
  errors?: unknown[];
}

interface Pending {
  resolve: (r: OperationResult) => void;
  reject: (e: Error) => void;
}

const SUB_MARK = Buffer.from('"id":"s');
const NEXT_MARK = Buffer.from('"type":"next"');
const QUOTE = 0x22;

export class GqlSocket {
  private readonly pending = new Map<string, Pending>();
  private readonly subs = new Map<string, (frame: Buffer) => void>();
  private nextOp = 0;
  private closedReason: string | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.onMessage(data));
    ws.on('close', (code: number, reason: Buffer) => this.failAll(`closed ${code} ${reason.toString()}`));
    ws.on('error', (err: Error) => this.failAll(err.message));
  }

  /** Opens the socket and completes connection_init → connection_ack. */
  static connect(wsUrl: string, token: string, timeoutMs = 15_000): Promise<GqlSocket> {
    return new Promise((resolve, reject) => {
      // The server's frames are trusted here; validating UTF-8 would only burn the load client's CPU.
      const ws = new WebSocket(`${wsUrl}/graphql`, 'graphql-transport-ws', { perMessageDeflate: false, skipUTF8Validation: true });
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error('connection_ack timeout'));
      }, timeoutMs);
      const fail = (msg: string): void => {
        clearTimeout(timer);
        reject(new Error(msg));
      };
      ws.once('error', (e: Error) => fail(e.message));
      ws.once('close', (code: number, reason: Buffer) => fail(`closed before ack: ${code} ${reason.toString()}`));
      ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
      ws.once('message', (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as { type: string };
        if (msg.type !== 'connection_ack') return fail(`expected connection_ack, got ${data.toString().slice(0, 200)}`);
        clearTimeout(timer);
        ws.removeAllListeners('error').removeAllListeners('close');
        resolve(new GqlSocket(ws));
      });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** A query or mutation; resolves with its first `next` (or rejects on `error` / close). */
  operation(query: string, variables: Record<string, unknown>): Promise<OperationResult> {
    if (this.closedReason) return Promise.reject(new Error(this.closedReason));
    const id = `m${this.nextOp++}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
    });
  }

  /** `onNext` gets the raw bytes of each `next` frame; `onError` hears of its end or the socket's close. */
  subscribe(id: `s${string}`, query: string, variables: Record<string, unknown>, onNext: (frame: Buffer) => void): void {
    this.subs.set(id, onNext);
    this.ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
  }

  onError?: (reason: string) => void;

  close(): void {
    this.closedReason ??= 'closed by client';
    this.ws.close(1000, 'bench done');
    // Do not wait for the close handshake of thousands of sockets.
    setTimeout(() => this.ws.terminate(), 2_000).unref();
  }

  /** A clean close (1000), resolved when the socket has closed; terminated after `timeoutMs`. */
  closeAndWait(timeoutMs = 5_000): Promise<void> {
    this.closedReason ??= 'closed by client';
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.ws.terminate(), timeoutMs);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close(1000, 'bench done');
    });
  }

  private onMessage(data: Buffer): void {
    const at = data.indexOf(SUB_MARK);
    if (at >= 0 && data.indexOf(NEXT_MARK) >= 0) {
      const start = at + SUB_MARK.length - 1;
      const handler = this.subs.get(data.toString('latin1', start, data.indexOf(QUOTE, start)));
      if (handler) return handler(data);
    }
    const msg = JSON.parse(data.toString()) as { id?: string; type: string; payload?: unknown };
    if (msg.type === 'ping') return void this.ws.send(JSON.stringify({ type: 'pong' }));
    if (msg.type === 'pong' || msg.id === undefined) return;
    const p = this.pending.get(msg.id);
    if (p) {
      this.pending.delete(msg.id);
      if (msg.type === 'next') p.resolve(msg.payload as OperationResult);
      else if (msg.type === 'error') p.resolve({ errors: msg.payload as unknown[] });
      else p.reject(new Error(`operation ${msg.id} ended with ${msg.type} and no result`));
      return;
    }
    if (this.subs.has(msg.id) && (msg.type === 'error' || msg.type === 'complete')) {
      this.subs.delete(msg.id);
      this.onError?.(`subscription ${msg.id} ${msg.type}: ${JSON.stringify(msg.payload ?? null).slice(0, 300)}`);
    }
  }

  private failAll(reason: string): void {
    if (!this.closedReason) {
      this.closedReason = reason;
      if (this.subs.size) this.onError?.(reason);
    }
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
  }
}
