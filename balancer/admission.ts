/**
 * Who may open a connection: a total cap, a per-IP cap on open connections and a per-IP rate of
 * new ones (token bucket). Refusals say why, so the client gets a clear status.
 */
export interface AdmissionLimits {
  maxTotal: number;
  maxPerIp: number;
  /** New connections per second per IP (sustained), with bursts up to `burstPerIp`. */
  ratePerIp: number;
  burstPerIp: number;
}

export type Refusal = { status: 503 | 429; reason: string };

export class Admission {
  private total = 0;
  private readonly open = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly limits: AdmissionLimits) {}

  /** Admits (and counts) a connection from `ip`, or says why not. Call `release` when it closes. */
  admit(ip: string, now = Date.now()): Refusal | null {
    if (this.total >= this.limits.maxTotal) return { status: 503, reason: 'balancer at its connection limit' };
    const open = this.open.get(ip) ?? 0;
    if (open >= this.limits.maxPerIp) return { status: 429, reason: `too many connections from ${ip}` };
    const bucket = this.buckets.get(ip) ?? { tokens: this.limits.burstPerIp, at: now };
    bucket.tokens = Math.min(this.limits.burstPerIp, bucket.tokens + ((now - bucket.at) / 1000) * this.limits.ratePerIp);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.buckets.set(ip, bucket);
      return { status: 429, reason: `too many new connections from ${ip}` };
    }
    bucket.tokens -= 1;
    this.buckets.set(ip, bucket);
    this.open.set(ip, open + 1);
    this.total++;
    return null;
  }

  release(ip: string): void {
    const open = (this.open.get(ip) ?? 1) - 1;
    if (open <= 0) this.open.delete(ip);
    else this.open.set(ip, open);
    this.total = Math.max(0, this.total - 1);
  }

  /** Forgets full buckets of idle IPs so the maps do not grow without bound. */
  sweep(now = Date.now()): void {
    for (const [ip, bucket] of this.buckets) {
      if (!this.open.has(ip) && bucket.tokens + ((now - bucket.at) / 1000) * this.limits.ratePerIp >= this.limits.burstPerIp) {
        this.buckets.delete(ip);
      }
    }
  }

  get openTotal(): number {
    return this.total;
  }
}
