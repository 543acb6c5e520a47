/**
 * What every attack of the abuse rows shares: request loops that each keep one request in flight
 * and retry as soon as it is answered, bounded in time and in requests; the answers counted by
 * outcome; and a GraphQL POST that can carry X-Forwarded-For and never throws on an error answer.
 */
import type { AttackResult } from './abuseProtocol.js';
import type { OperationResult } from './gqlSocket.js';
import { sleep } from './stats.js';

export class AttackRun {
  private readonly outcomes = new Map<string, number>();
  private readonly loops: Promise<void>[] = [];
  private startedAt = performance.now();
  private endedAt = 0;
  private endedBy: AttackResult['endedBy'] | undefined;
  private requests = 0;

  constructor(
    private readonly maxMs: number,
    private readonly maxRequests: number,
  ) {}

  /** Setup (sessions, sockets) is done: the bounds count from here. */
  begin(): void {
    this.startedAt = performance.now();
  }

  /** Whether the loops go on; the first bound reached is what ended the attack. */
  private get going(): boolean {
    if (this.endedBy) return false;
    if (this.requests >= this.maxRequests) this.end('request bound');
    else if (performance.now() - this.startedAt >= this.maxMs) this.end('time bound');
    return this.endedBy === undefined;
  }

  private end(by: AttackResult['endedBy']): void {
    this.endedBy ??= by;
    this.endedAt ||= performance.now();
  }

  /** Runs `request` again and again while the bounds allow; it reports its own outcome with `note`. */
  loop(write: string, request: (n: number) => Promise<void>): void {
    this.loops.push(
      (async () => {
        for (let n = 0; this.going; n++) {
          try {
            await request(n);
          } catch (e) {
            this.note(write, failure(e));
            // A request that fails without any I/O (a closed socket) must not spin the event loop.
            await sleep(50);
          }
        }
      })(),
    );
  }

  get loopCount(): number {
    return this.loops.length;
  }

  note(write: string, outcome: string): void {
    this.requests++;
    const key = `${write}: ${outcome}`;
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
  }

  async stop(): Promise<AttackResult> {
    this.end('stop');
    await Promise.all(this.loops);
    const elapsedMs = this.endedAt - this.startedAt;
    return {
      requests: this.requests,
      elapsedMs,
      perSecond: (this.requests * 1000) / Math.max(1, elapsedMs),
      outcomes: Object.fromEntries([...this.outcomes].sort((a, b) => b[1] - a[1])),
      endedBy: this.endedBy ?? 'stop',
    };
  }
}

export function failure(e: unknown): string {
  return `failed (${(e instanceof Error ? e.message : String(e)).slice(0, 80)})`;
}

/** `ok`, the error's code, or for RATE_LIMITED also what was limited (the message up to "; retry in …"). */
export function outcomeOf(r: OperationResult): string {
  const error = r.errors?.[0] as { message?: string; extensions?: { code?: string } } | undefined;
  if (!error) return r.data ? 'ok' : 'no data';
  const code = error.extensions?.code ?? 'no code';
  return code === 'RATE_LIMITED' ? `RATE_LIMITED (${(error.message ?? '').replace(/;.*$/, '')})` : code;
}

/** A GraphQL POST; answers (errors included) resolve, only a transport failure throws. */
export async function postGraphQL(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  options: { token?: string; forwardedFor?: string } = {},
): Promise<OperationResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.forwardedFor) headers['x-forwarded-for'] = options.forwardedFor;
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }), signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  try {
    return JSON.parse(text) as OperationResult;
  } catch {
    return { errors: [{ message: text.slice(0, 100), extensions: { code: `HTTP ${res.status}` } }] };
  }
}
