import { Agent, get } from 'node:http';
import { choose, type Candidate } from './choose.js';

/**
 * What the balancer knows of a backend. `ready`: its /readyz answered 200. Otherwise what it said
 * or did: `draining` or `starting` (it says it takes nothing new), `unready` (it answers, but not
 * 200 — e.g. its event store fails — or answers too late), `down` (not reachable at all).
 */
export type BackendState = 'ready' | 'unready' | 'draining' | 'starting' | 'down';

/** How a request to a backend failed (dispatcher.ts `failed`). */
export type Failure = 'down' | 'draining' | 'timeout';

/** What is open on a backend: a WebSocket (what nodes count and report), or a plain HTTP request. */
export type Kind = 'socket' | 'request';

export interface Backend extends Candidate {
  url: URL;
  /** Connections (WebSockets and HTTP requests in flight) open through THIS balancer right now. */
  open: number;
  /** Of those, the WebSockets: what the node's report counts. */
  sockets: number;
  /** Where it came from: the static list, or discovery. */
  source: 'static' | 'discovered';
  state: BackendState;
  /** Discovered, and its announcement has lapsed: dropped as soon as it is not ready either. */
  unannounced: boolean;
}

export interface BackendPoolOptions {
  healthIntervalMs: number;
  healthTimeoutMs: number;
  onChange?: (backend: Backend, event: 'added' | 'removed' | 'ejected' | 'restored') => void;
  /** Panic began (`unready`: how many nodes traffic now goes to) or ended. */
  onPanic?: (panic: boolean, unready: number) => void;
}

const FROM_STATUS: Record<string, BackendState> = { draining: 'draining', starting: 'starting' };

/**
 * The backends and what we know of them. Health: every `healthIntervalMs` each backend's
 * `/readyz` is fetched; only a 200 keeps it in rotation (a draining node answers 503, a dead one
 * does not answer), so a failing node stops getting new connections within one interval plus the
 * timeout. A failed request takes a backend out at once (passive check); the next good check
 * restores it. The report's `connections` field feeds the least-connections choice.
 *
 * Panic: when no backend is ready but some answer and are not draining or starting, the cause is
 * more likely shared (a dependency of every node) than in each node, and refusing everything would
 * turn a partial outage into a total one; so, like Envoy below its panic threshold, `pick` then
 * chooses among those (README, "The balancer").
 */
export class BackendPool {
  private readonly backends = new Map<string, Backend>();
  private turn = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly spread = new Set<NodeJS.Timeout>();
  private panic = false;
  /**
   * One kept-alive socket per backend for the checks. `fetch` (undici) costs several times more
   * event-loop time per check than a plain http.get, and that time lands between proxied frames.
   */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(private readonly options: BackendPoolOptions) {}

  add(url: string, source: Backend['source']): void {
    const key = new URL(url).origin;
    const known = this.backends.get(key);
    if (known) {
      known.unannounced = false;
      return;
    }
    const backend: Backend = { id: key, url: new URL(key), ready: false, reported: 0, delta: 0, open: 0, sockets: 0, source, state: 'unready', unannounced: false };
    this.backends.set(key, backend);
    this.options.onChange?.(backend, 'added');
    void this.check(backend);
  }

  /**
   * Replaces the discovered set (static backends stay). A discovered backend missing from it goes
   * once it is not ready: at once if it is not, else after a health check made now. So a draining
   * node (it withdraws, then answers 503) leaves within a check, while a Redis that lost every
   * announcement (restarted without persistence) does not empty the pool of nodes that serve.
   */
  setDiscovered(urls: string[]): void {
    const wanted = new Set(urls.map((url) => new URL(url).origin));
    for (const backend of this.backends.values()) {
      if (backend.source !== 'discovered' || wanted.has(backend.id)) continue;
      backend.unannounced = true;
      if (!backend.ready) this.remove(backend);
      else void this.check(backend);
    }
    for (const url of urls) this.add(url, 'discovered');
  }

  /** The ready backend with the least load; in panic, the answering one with the least load; or null. */
  pick(): { backend: Backend; panic: boolean } | null {
    const all = [...this.backends.values()];
    const turn = this.turn++;
    if (this.turn > 1e9) this.turn = 0;
    const ready = choose(all, turn);
    if (ready) return { backend: ready, panic: false };
    const any = choose(all, turn, (b) => b.state === 'unready');
    return any ? { backend: any, panic: true } : null;
  }

  get inPanic(): boolean {
    return this.panic;
  }

  opened(backend: Backend, kind: Kind): void {
    backend.open++;
    backend.delta++;
    if (kind === 'socket') backend.sockets++;
  }

  closed(backend: Backend, kind: Kind): void {
    backend.open--;
    backend.delta--;
    if (kind === 'socket') backend.sockets--;
  }

  /** A request to it failed: out of rotation until a health check says otherwise. */
  eject(backend: Backend, failure: Failure): void {
    this.setState(backend, failure === 'timeout' ? 'unready' : failure);
  }

  list(): Backend[] {
    return [...this.backends.values()];
  }

  start(): void {
    this.timer = setInterval(() => {
      // Spread over the interval rather than all at once: the answers then come back one at a
      // time instead of as a burst that holds up proxied traffic.
      const backends = [...this.backends.values()];
      backends.forEach((backend, i) => {
        const timer = setTimeout(() => {
          this.spread.delete(timer);
          void this.check(backend);
        }, (i * this.options.healthIntervalMs) / backends.length);
        timer.unref();
        this.spread.add(timer);
      });
    }, this.options.healthIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const timer of this.spread) clearTimeout(timer);
    this.spread.clear();
    this.agent.destroy();
  }

  private remove(backend: Backend): void {
    if (!this.backends.delete(backend.id)) return;
    this.options.onChange?.(backend, 'removed');
    this.updatePanic();
  }

  private setState(backend: Backend, state: BackendState): void {
    const wasReady = backend.ready;
    backend.state = state;
    backend.ready = state === 'ready';
    if (wasReady !== backend.ready) this.options.onChange?.(backend, backend.ready ? 'restored' : 'ejected');
    this.updatePanic();
  }

  private updatePanic(): void {
    const all = [...this.backends.values()];
    const unready = all.filter((b) => b.state === 'unready').length;
    const panic = unready > 0 && !all.some((b) => b.ready);
    if (panic === this.panic) return;
    this.panic = panic;
    this.options.onPanic?.(panic, unready);
  }

  private async check(backend: Backend): Promise<void> {
    let state: BackendState;
    let reported: number | null = null;
    try {
      const { status, body } = await this.readyz(backend.url);
      let said: { connections?: unknown; status?: unknown } = {};
      try {
        said = JSON.parse(body || '{}') as typeof said;
      } catch {
        // Not JSON: the status code alone decides.
      }
      if (typeof said.connections === 'number') reported = said.connections;
      state = status === 200 ? 'ready' : (FROM_STATUS[String(said.status)] ?? 'unready');
    } catch (error) {
      // Answering late is a node alive but slow; not answering at all is a node gone.
      state = (error as { timedOut?: boolean }).timedOut ? 'unready' : 'down';
    }
    if (!this.backends.has(backend.id)) return;
    // The report counts every WebSocket on the node, ours too once the node has seen them. What
    // is not ours (other balancers', direct clients') is the report less our sockets now, never
    // below 0: sockets we opened that the node has not counted yet, or HTTP requests (not in the
    // report), must not make it look emptier than it is. Ours we count exactly and live (`delta`).
    backend.reported = reported === null ? 0 : Math.max(0, reported - backend.sockets);
    backend.delta = backend.open;
    this.setState(backend, state);
    if (backend.unannounced && !backend.ready) this.remove(backend);
  }

  private readyz(base: URL): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const request = get(new URL('/readyz', base), { agent: this.agent, timeout: this.options.healthTimeoutMs }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (body.length < 65_536) body += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        response.on('error', reject);
      });
      request.on('timeout', () => request.destroy(Object.assign(new Error('health check timed out'), { timedOut: true })));
      request.on('error', reject);
    });
  }
}
