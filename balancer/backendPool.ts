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
      for (const backend of this.backends.values()) void this.check(backend);
    }, this.options.healthIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async check(backend: Backend): Promise<void> {
    const openAtCheck = backend.open;
    let ok = false;
    let reported: number | null = null;
    try {
      const response = await fetch(new URL('/readyz', backend.url), { signal: AbortSignal.timeout(this.options.healthTimeoutMs) });
      ok = response.status === 200;
      const body = (await response.json().catch(() => ({}))) as { connections?: unknown };
      if (typeof body.connections === 'number') reported = body.connections;
    } catch {
      ok = false;
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
}
