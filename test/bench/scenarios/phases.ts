/** Steps shared by the multi-process fan-out scenarios (fanout2, balancer): open subscribers, run one measured publish phase. */
import { undisturbed, withCpuOf } from '../cluster.js';
import type { OpenSubscribersRequest, OpenSubscribersResult, PublishRequest, PublishResult } from '../load/protocol.js';
import type { LoadClient } from '../loadProcess.js';
import { fmt } from '../table.js';
import type { ScenarioContext } from './context.js';

export interface MeasuredPhase extends PublishResult {
  /** Cores used during the phase, by process name; other processes' (irq excluded) and irq/softirq. */
  cores: Record<string, number>;
  other: number;
  irq: number;
  rate: number;
}

export async function openSubscribers(ctx: ScenarioContext, label: string, load: LoadClient, req: Omit<OpenSubscribersRequest, 'cmd' | 'liveTimeoutMs'>): Promise<OpenSubscribersResult> {
  const open = await load.call<OpenSubscribersResult>({ cmd: 'openSubscribers', liveTimeoutMs: 30_000, ...req }, 600_000);
  ctx.log(`${label}: ${open.opened} subscribers open, ${open.live} live, ${open.failed} failed (${fmt(open.elapsedMs)} ms)`);
  if (open.failed || open.live < open.opened) {
    ctx.notes.push(`${label}: ${open.failed} subscribers failed to open, ${open.opened - open.live} never saw a probe; first error: ${open.firstError ?? '—'}`);
  }
  return open;
}

/** One publish phase under CPU accounting; problems go to the notes. */
export async function measuredPhase(
  ctx: ScenarioContext,
  label: string,
  load: LoadClient,
  pids: Record<string, number>,
  req: Omit<PublishRequest, 'cmd' | 'drainMs'>,
): Promise<MeasuredPhase> {
  const { result: r, cores, other, irq } = await withCpuOf(ctx, label, pids, () =>
    load.call<PublishResult>({ cmd: 'publish', drainMs: 10_000, ...req }, req.durationMs + 60_000),
  );
  ctx.log(`${label}: ${fmt(r.deliveriesPerSecond)} deliveries/s, p50 ${fmt(r.latency.p50, 1)} ms, p99 ${fmt(r.latency.p99, 1)} ms, lost ${r.lost}, dup ${r.duplicates}, seq violations ${r.seqViolations}`);
  if (r.publishErrors) ctx.notes.push(`${label}: ${r.publishErrors} publishes failed; first: ${r.firstError}`);
  if (r.lost || r.duplicates || r.outOfOrder || r.seqViolations || r.subscriberErrors) {
    ctx.notes.push(
      `${label}: published ${r.published} to ${r.subscribers} subscribers = ${fmt(r.expected)} expected; delivered ${fmt(r.delivered)}, lost ${fmt(r.lost)}, duplicates ${r.duplicates}, out of order ${r.outOfOrder}, seq not increasing ${r.seqViolations}, subscriptions ended ${r.subscriberErrors}${r.firstError ? `; first error: ${r.firstError}` : ''}; last delivery ${fmt(r.drainMs)} ms after last publish`,
    );
  }
  if ((cores.load ?? 0) >= 0.85) {
    ctx.notes.push(`${label}: the load client (one thread) used ${cores.load!.toFixed(2)} cores — it may itself be the bottleneck of this step`);
  }
  return { ...r, cores, other, irq, rate: req.ratePerSecond };
}

/** How far a phase kept up with what was offered: the evidence for "saturated" or not. */
export function keptUp(p: MeasuredPhase): string {
  const offered = p.rate * p.subscribers;
  return `offered ${fmt(offered)}/s, delivered ${fmt(p.deliveriesPerSecond)}/s during the window (${fmt((100 * p.deliveriesPerSecond) / offered)} %), last delivery ${fmt(p.drainMs)} ms after the last publish`;
}

export const latency = (r?: PublishResult): string => (r ? `${fmt(r.latency.p50, 1)} / ${fmt(r.latency.p99, 1)}` : '—');
export const broken = (r?: PublishResult): number | undefined => (r ? r.duplicates + r.outOfOrder + r.seqViolations : undefined);

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The rounds other processes left undisturbed, or all of them if every round was disturbed. */
export function pick<T extends { other: number }>(xs: T[]): T[] {
  const clean = xs.filter(undisturbed);
  return clean.length ? clean : xs;
}
