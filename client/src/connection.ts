import { Client as UrqlClient, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws/client';
import { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.js';
import { closeCodeError, type ChatClientError } from './errors.js';
import { toWebSocketUrl, type UrlChooser } from './urls.js';

/**
 * - `idle`: no operation open, so no socket (the client connects on demand);
 * - `connecting`: the first connection is being made;
 * - `connected`: the server acknowledged the connection;
 * - `reconnecting`: a connection failed or dropped while operations were open; they wait and resume;
 * - `closed`: `close()` was called, or the server refused the session (a final error).
 */
export type ConnectionStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ConnectionOptions {
  chooseUrl: UrlChooser;
  token: string;
  webSocketImpl?: unknown;
  backoff?: BackoffOptions;
  /** Ping the server this often (0 = never); a pong that does not come within `pongTimeoutMs` ends the socket. */
  keepAliveMs?: number;
  pongTimeoutMs?: number;
}

/**
 * One graphql-ws connection under an urql Client, carrying every operation (queries and mutations
 * too, so a client follows one node and fails over as a whole). graphql-ws does not retry by itself
 * here (`retryAttempts: 0`): a retry must resume by seq, not resend the original subscribe, so every
 * operation's error reaches its owner, which waits on `waitToRetry()` and starts again. Waiting is
 * shared: all operations that failed together wait for the same backoff and reconnect together.
 */
export class Connection {
  readonly urql: UrqlClient;
  private readonly ws: WsClient;
  private statusValue: ConnectionStatus = 'idle';
  private readonly listeners = new Set<(status: ConnectionStatus) => void>();
  private failures = 0;
  private failedSinceConnected = false;
  private currentUrl: string | undefined;
  private acked = false;
  private pendingRetry: Promise<void> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly backoff: BackoffOptions;
  /** Operations open right now (a socket that closes while there are none is just idle). */
  private open = 0;

  constructor(private readonly options: ConnectionOptions) {
    this.backoff = options.backoff ?? defaultBackoff;
    const keepAliveMs = options.keepAliveMs ?? 10_000;
    const pongTimeoutMs = options.pongTimeoutMs ?? 5_000;
    this.ws = createWsClient({
      url: async () => {
        const chosen = await options.chooseUrl({ attempt: this.failures, previous: this.currentUrl, previousFailed: this.failedSinceConnected || !this.acked });
        this.currentUrl = chosen;
        this.acked = false;
        return toWebSocketUrl(chosen);
      },
      connectionParams: () => ({ authorization: `Bearer ${options.token}` }),
      lazy: true,
      // Keep the socket a moment after the last operation ends: sends in a row reuse it.
      lazyCloseTimeout: 1_000,
      retryAttempts: 0,
      keepAlive: keepAliveMs,
      connectionAckWaitTimeout: 10_000,
      webSocketImpl: options.webSocketImpl,
      on: {
        connecting: () => this.setStatus(this.failedSinceConnected ? 'reconnecting' : 'connecting'),
        connected: () => {
          this.acked = true;
          this.failures = 0;
          this.failedSinceConnected = false;
          this.setStatus('connected');
        },
        ping: (received) => {
          // A half-open socket (a node that vanished without a FIN) answers nothing: end it.
          if (received || pongTimeoutMs <= 0) return;
          clearTimeout(this.pongTimer);
          this.pongTimer = setTimeout(() => this.ws.terminate(), pongTimeoutMs);
        },
        pong: (received) => {
          if (received) clearTimeout(this.pongTimer);
        },
        closed: (event) => {
          clearTimeout(this.pongTimer);
          if (this.statusValue === 'closed') return;
          const { code, reason } = (event ?? {}) as { code?: number; reason?: string };
          // A refused session (4403) or a protocol error: reconnecting cannot help.
          const final = code === undefined ? null : closeCodeError(code, reason ?? '');
          if (final) {
            this.finalError = final;
            this.setStatus('closed');
            // Disposing only after this event has reached every operation: each then fails
            // with the close event (disposed first, graphql-ws would complete them silently).
            setTimeout(() => void this.close(true));
            return;
          }
          const normal = code === 1000 && this.acked;
          if (!normal) {
            this.failedSinceConnected = true;
            this.failures++;
          }
          this.setStatus(this.open > 0 && !normal ? 'reconnecting' : 'idle');
        },
      },
    });
    this.urql = new UrqlClient({
      url: 'ws://unused/graphql',
      requestPolicy: 'network-only',
      exchanges: [
        subscriptionExchange({
          enableAllOperations: true,
          forwardSubscription: (request) => {
            const payload = { ...request, query: request.query ?? '' };
            return { subscribe: (sink) => ({ unsubscribe: this.ws.subscribe(payload, sink) }) };
          },
        }),
      ],
    });
  }

  get status(): ConnectionStatus {
    return this.statusValue;
  }

  /** Why the client closed itself (a refused session), if it did. */
  finalError: ChatClientError | null = null;

  get closed(): boolean {
    return this.statusValue === 'closed';
  }

  /** The URL of the node the client is (or was last) connected to. */
  get url(): string | undefined {
    return this.currentUrl;
  }

  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Counts an operation as open while `fn` runs (or until the returned release is called). */
  hold(): () => void {
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
    };
  }

  /**
   * Resolves when an operation that failed for want of a connection should try again: at once if
   * a connection is up (someone else already reconnected), else after the shared backoff.
   */
  waitToRetry(): Promise<void> {
    if (this.statusValue === 'closed') return Promise.reject(new Error('closed'));
    if (this.statusValue === 'connected') return Promise.resolve();
    if (this.statusValue !== 'reconnecting') this.setStatus('reconnecting');
    this.pendingRetry ??= new Promise<void>((resolve) => {
      setTimeout(() => {
        this.pendingRetry = null;
        resolve();
      }, backoffDelay(Math.max(0, this.failures - 1), this.backoff));
    });
    return this.pendingRetry;
  }

  /** Resolves once the client is closed (by `close()` or a final close code). */
  readonly whenClosed: Promise<void> = new Promise((resolve) => this.onStatus((status) => status === 'closed' && resolve()));

  async close(force = false): Promise<void> {
    if (this.statusValue === 'closed' && !force) return;
    this.setStatus('closed');
    clearTimeout(this.pongTimer);
    await this.ws.dispose();
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.statusValue || this.statusValue === 'closed') return;
    this.statusValue = status;
    for (const listener of [...this.listeners]) listener(status);
  }
}
