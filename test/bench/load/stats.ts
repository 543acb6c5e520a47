import type { LatencySummary } from './protocol.js';

/**
 * A bounded log-bucket latency histogram (about 1 % resolution from 1 µs up to ~20 min), so a
 * million deliveries cost no more memory than ten.
 */
export class Histogram {
  private static readonly base = 1.01;
  private static readonly minMs = 0.001;
  private readonly buckets = new Uint32Array(2200);
  private total = 0;
  private maxSeen = 0;

  record(ms: number): void {
    const v = ms < Histogram.minMs ? Histogram.minMs : ms;
    const i = Math.min(this.buckets.length - 1, Math.floor(Math.log(v / Histogram.minMs) / Math.log(Histogram.base)));
    this.buckets[i]! += 1;
    this.total += 1;
    if (ms > this.maxSeen) this.maxSeen = ms;
  }

  quantile(q: number): number {
    if (this.total === 0) return NaN;
    const target = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      // Report the bucket's upper edge: never flatters the figure.
      if (seen >= target) return Histogram.minMs * Histogram.base ** (i + 1);
    }
    return this.maxSeen;
  }

  /** The non-empty buckets as [index, count] pairs: what `merged` pools across processes. */
  sparse(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.buckets.length; i++) if (this.buckets[i]) out.push([i, this.buckets[i]!]);
    return out;
  }

  /** One histogram of the recordings behind several `sparse()` exports (max: the largest given). */
  static merged(parts: Array<{ sparse: Array<[number, number]>; max: number }>): Histogram {
    const h = new Histogram();
    for (const part of parts) {
      for (const [i, count] of part.sparse) {
        h.buckets[i]! += count;
        h.total += count;
      }
      h.maxSeen = Math.max(h.maxSeen, part.max);
    }
    return h;
  }

  summary(): LatencySummary {
    return { count: this.total, p50: this.quantile(0.5), p99: this.quantile(0.99), max: this.maxSeen };
  }
}

/** Wall-clock milliseconds as a float, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
