import { Agent, get } from 'node:http';
import { choose, type Candidate } from './choose.js';

export interface Backend extends Candidate {
  url: URL;
  /** Connections open through THIS balancer right now. */
  open: number;
  /** Where it came from: the static list, or discovery (dropped when its announcement lapses). */
  source: 'static' | 'discovered';
  lastCheckOk: boolean;
}

export interface BackendPoolOptions {
  healthIntervalMs: number;
  healthTimeoutMs: number;
  onChange?: (backend: Backend, event: 'added' | 'removed' | 'ejected' | 'restored') => void;
}

/**
 * The backends and what we know of them. Health: every `healthIntervalMs` each backend's
 * `/readyz` is fetched; only a 200 keeps it in rotation (a draining node answers 503, a dead one
 * does not answer), so a failing node stops getting new connections within one interval plus the
 * timeout. A failed connect ejects a backend at once (passive check); the next good check
 * restores it. The report's `connections` field feeds the least-connections choice.
 */
export class BackendPool {
  private readonly backends = new Map<string, Backend>();
  private turn = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly spread = new Set<NodeJS.Timeout>();
  /**
   * One kept-alive socket per backend for the checks. `fetch` (undici) costs several times more
   * event-loop time per check than a plain http.get, and that time lands between proxied frames.
   */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(private readonly options: BackendPoolOptions) {}

  add(url: string, source: Backend['source']): void {
    const key = new URL(url).origin;
    if (this.backends.has(key)) return;
    const backend: Backend = { id: key, url: new URL(key), ready: false, reported: 0, delta: 0, open: 0, source, lastCheckOk: false };
    this.backends.set(key, backend);
    this.options.onChange?.(backend, 'added');
    void this.check(backend);
  }

  /** Replaces the discovered set (static backends stay). */
  setDiscovered(urls: string[]): void {
    const wanted = new Set(urls.map((url) => new URL(url).origin));
    for (const [key, backend] of this.backends) {
      if (backend.source === 'discovered' && !wanted.has(key)) {
        this.backends.delete(key);
        this.options.onChange?.(backend, 'removed');
      }
    }
    for (const url of urls) this.add(url, 'discovered');
  }

  /** The ready backend with the least load, or null. */
  pick(): Backend | null {
    const all = [...this.backends.values()];
    const picked = choose(all, this.turn++) as Backend | null;
    if (this.turn > 1e9) this.turn = 0;
    return picked;
  }

  opened(backend: Backend): void {
    backend.open++;
    backend.delta++;
  }

  closed(backend: Backend): void {
    backend.open--;
    backend.delta--;
  }

  /** A connect to it failed: take it out of rotation until a health check says otherwise. */
  eject(backend: Backend): void {
    if (!backend.ready) return;
    backend.ready = false;
    this.options.onChange?.(backend, 'ejected');
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

  private async check(backend: Backend): Promise<void> {
    const openAtCheck = backend.open;
    let ok = false;
    let reported: number | null = null;
    try {
      const { status, body } = await this.readyz(backend.url);
      ok = status === 200;
      const connections = (JSON.parse(body || '{}') as { connections?: unknown }).connections;
      if (typeof connections === 'number') reported = connections;
    } catch {
      // Not answering, answering late, or not JSON: ok stays as the status said, or false.
    }
    if (!this.backends.has(backend.id)) return;
    // The report includes our own connections as they were when it was taken; what we opened or
    // closed since then is the delta. Without a report, our own count is all we know.
    backend.reported = reported ?? openAtCheck;
    backend.delta = backend.open - openAtCheck;
    backend.lastCheckOk = ok;
    if (ok !== backend.ready) {
      backend.ready = ok;
      this.options.onChange?.(backend, ok ? 'restored' : 'ejected');
    }
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
      request.on('timeout', () => request.destroy(new Error('health check timed out')));
      request.on('error', reject);
    });
  }
}
