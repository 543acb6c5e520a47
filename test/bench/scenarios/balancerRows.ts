/**
 * The balancer scenario's table rows. Every figure is a median over the rounds that other
 * processes did not disturb (all rounds when every one was), the same rule for every front.
 */
import { undisturbed } from '../cluster.js';
import type { ConnectRateResult } from '../load/protocol.js';
import { fmt, ratio, verdict, type Row } from '../table.js';
import type { ScenarioContext } from './context.js';
import { median, pick, type MeasuredPhase } from './phases.js';

export type FrontKey = 'direct' | 'balancer' | 'haproxy';

export interface Front {
  key: FrontKey;
  /** Sessions, room and publisher go through this URL. */
  url: string;
  /** Subscribers (and new connections) go to these, round robin. */
  subUrls: string[];
  steady: MeasuredPhase[];
  saturated: MeasuredPhase[];
  connect?: ConnectRateResult & { cores: Record<string, number>; other: number };
}

interface Figures {
  deliveries: number;
  p50: number;
  p99: number;
  lost: number;
  /** CPU the front itself spent per delivery, µs (not for direct). */
  cpuUs?: number;
  used: string;
}

type Pair = { p50: number; p99: number };

function figures(key: FrontKey, phases: MeasuredPhase[]): Figures | undefined {
  if (phases.length === 0) return undefined;
  const use = pick(phases);
  const cpu = use.map((p) => p.cores[key]).filter((c): c is number => c !== undefined);
  return {
    deliveries: median(use.map((p) => p.deliveriesPerSecond)),
    p50: median(use.map((p) => p.latency.p50)),
    p99: median(use.map((p) => p.latency.p99)),
    lost: phases.reduce((s, p) => s + p.lost, 0),
    cpuUs: key === 'direct' || cpu.length === 0 ? undefined : median(use.map((p) => ((p.cores[key] ?? 0) * 1e6) / p.deliveriesPerSecond)),
    used: `${phases.filter(undisturbed).length}/${phases.length}`,
  };
}

const lat = (f?: Pair): string => (f ? `${fmt(f.p50, 2)} / ${fmt(f.p99, 2)}` : '—');

export function balancerRows(ctx: ScenarioContext, fronts: Front[], mixed: MeasuredPhase[], hapMissing: string | undefined): Row[] {
  const { cfg } = ctx;
  const get = (k: FrontKey): Front | undefined => fronts.find((f) => f.key === k);
  const [d, b, h] = [get('direct'), get('balancer'), get('haproxy')];
  const out: Row[] = [];
  const who = 'roomlog col = our balancer, bare col = HAProxy';
  if (hapMissing) {
    const why = hapMissing.length > 70 ? `${hapMissing.slice(0, 70)}… (see notes)` : hapMissing;
    out.push({ scenario: '6. balancer vs HAProxy', metric: `HAProxy not measured: ${why}`, roomlog: '', bare: '—', ratio: '', target: 'HAProxy beside', result: 'MISS' });
  }
  const noHap = (x: unknown): '' | 'MISS' => (hapMissing && x !== undefined ? 'MISS' : '');

  // Same messages, delivery leg only. Each delivery's arrival relative to the median direct
  // arrival of the same message (the send leg, common to every path, cancels), pooled over the
  // rounds used (~rounds × messages × subscribers/3 deliveries per path, not two tail values per
  // round), then: added = quantile(path) − quantile(direct).
  const mixedUse = pick(mixed).filter((p) => p.relativeByGroup?.[0]?.length);
  const pooled = (rounds: MeasuredPhase[], g: number): Float64Array => {
    const all = rounds.flatMap((p) => p.relativeByGroup?.[g] ?? []);
    return Float64Array.from(all, (v) => v / 100).sort();
  };
  const quantile = (sorted: Float64Array, q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const addedOver = (rounds: MeasuredPhase[], g: number): Pair | undefined => {
    const [path, direct] = [pooled(rounds, g), pooled(rounds, 0)];
    if (!path.length || !direct.length) return undefined;
    return { p50: quantile(path, 0.5) - quantile(direct, 0.5), p99: quantile(path, 0.99) - quantile(direct, 0.99) };
  };
  const sameMsgs = (g: number): Pair | undefined => addedOver(mixedUse, g);
  const paths = h ? ['balancer', 'HAProxy'] : ['balancer'];
  ctx.notes.push(
    `balancer / same msgs, added p50 / p99 ms per round (${paths.join(', ')}): ` +
      mixed.map((p, r) => `round ${r + 1}: ${paths.map((_, g) => lat(addedOver([p], g + 1))).join(', ')}`).join('; '),
  );
  const directMixed = mixedUse.length ? { p50: median(mixedUse.map((p) => p.latencyByGroup[0]!.p50)), p99: median(mixedUse.map((p) => p.latencyByGroup[0]!.p99)) } : undefined;
  const [ab, ah] = [sameMsgs(1), h ? sameMsgs(2) : undefined];

  const steadyName = `6a. via front, ${fmt(cfg.balancerSubscribers)} subs @${cfg.balancerRate} msg/s (${who})`;
  const [sd, sb, sh] = [figures('direct', d?.steady ?? []), figures('balancer', b?.steady ?? []), figures('haproxy', h?.steady ?? [])];
  const added = (f?: Figures): Pair | undefined => (f && sd ? { p50: f.p50 - sd.p50, p99: f.p99 - sd.p99 } : undefined);
  out.push(
    {
      scenario: steadyName,
      metric: `added p50 / p99 ms, same msgs (direct ${lat(directMixed)})`,
      roomlog: lat(ab),
      bare: lat(ah),
      ratio: ah && ah.p99 > 0 ? ratio(ab?.p99, ah.p99) : '—',
      target: 'p99 ≤ 1.5× HAProxy',
      // HAProxy adding nothing measurable (≤ 0) leaves no margin: then the balancer must add nothing either.
      result: ab && ah ? verdict(ab.p99 <= 1.5 * Math.max(0, ah.p99)) : noHap(ab),
    },
    { scenario: steadyName, metric: `deliveries/s (direct ${fmt(sd?.deliveries)})`, roomlog: fmt(sb?.deliveries), bare: fmt(sh?.deliveries), ratio: ratio(sb?.deliveries, sh?.deliveries), target: '', result: '' },
    { scenario: steadyName, metric: `latency p50 / p99 ms, all via front (direct ${lat(sd)})`, roomlog: lat(sb), bare: lat(sh), ratio: ratio(sb?.p99, sh?.p99), target: '', result: '' },
    { scenario: steadyName, metric: 'added p50 / p99 ms, all via front vs direct room', roomlog: lat(added(sb)), bare: lat(added(sh)), ratio: '', target: '', result: '' },
    { scenario: steadyName, metric: `lost (direct ${fmt(sd?.lost)})`, roomlog: fmt(sb?.lost), bare: fmt(sh?.lost), ratio: '', target: '0', result: sb ? verdict(sb.lost === 0) : '' },
  );

  const satName = `6b. via front, ${fmt(cfg.balancerSubscribers)} subs @${cfg.balancerSaturatedRate} msg/s (saturating)`;
  const [td, tb, th] = [figures('direct', d?.saturated ?? []), figures('balancer', b?.saturated ?? []), figures('haproxy', h?.saturated ?? [])];
  out.push(
    {
      scenario: satName,
      metric: `deliveries/s (direct ${fmt(td?.deliveries)})`,
      roomlog: fmt(tb?.deliveries),
      bare: fmt(th?.deliveries),
      ratio: ratio(tb?.deliveries, th?.deliveries),
      target: '≥ 0.7× HAProxy',
      result: tb && th ? verdict(tb.deliveries >= 0.7 * th.deliveries) : noHap(tb),
    },
    { scenario: satName, metric: `latency p50 / p99 ms (direct ${lat(td)})`, roomlog: lat(tb), bare: lat(th), ratio: ratio(tb?.p99, th?.p99), target: '', result: '' },
    { scenario: satName, metric: 'front CPU µs per delivery', roomlog: fmt(tb?.cpuUs, 1), bare: fmt(th?.cpuUs, 1), ratio: ratio(tb?.cpuUs, th?.cpuUs), target: '', result: '' },
    { scenario: satName, metric: `lost after drain (direct ${fmt(td?.lost)})`, roomlog: fmt(tb?.lost), bare: fmt(th?.lost), ratio: '', target: '', result: '' },
  );

  const connName = `6c. new connections (open, upgrade, init/ack, close; ${cfg.connectConcurrency} at a time, ${cfg.connectMs / 1000} s)`;
  const [cd, cb, ch] = [d?.connect, b?.connect, h?.connect];
  const cl = (c?: ConnectRateResult): string => (c ? `${fmt(c.latency.p50, 2)} / ${fmt(c.latency.p99, 2)}` : '—');
  const perConn = (c: Front['connect'], key: FrontKey): number | undefined => (c && c.cores[key] !== undefined ? (c.cores[key]! * 1e6) / c.perSecond : undefined);
  out.push(
    {
      scenario: connName,
      metric: `connections/s (direct ${fmt(cd?.perSecond)})`,
      roomlog: fmt(cb?.perSecond),
      bare: fmt(ch?.perSecond),
      ratio: ratio(cb?.perSecond, ch?.perSecond),
      target: '≥ 0.7× HAProxy',
      result: cb && ch ? verdict(cb.perSecond >= 0.7 * ch.perSecond && cb.failed === 0) : noHap(cb),
    },
    { scenario: connName, metric: `connect→ack p50 / p99 ms (direct ${cl(cd)})`, roomlog: cl(cb), bare: cl(ch), ratio: ratio(cb?.latency.p99, ch?.latency.p99), target: '', result: '' },
    { scenario: connName, metric: 'front CPU µs per connection', roomlog: fmt(perConn(cb, 'balancer')), bare: fmt(perConn(ch, 'haproxy')), ratio: ratio(perConn(cb, 'balancer'), perConn(ch, 'haproxy')), target: '', result: '' },
    { scenario: connName, metric: `failed (direct ${fmt(cd?.failed)})`, roomlog: fmt(cb?.failed), bare: fmt(ch?.failed), ratio: '', target: '0', result: cb ? verdict(cb.failed === 0) : '' },
  );

  const used = [
    `same msgs ${mixed.filter(undisturbed).length}/${mixed.length}`,
    ...[d, b, h].filter((f): f is Front => f !== undefined).map((f) => `${f.key} steady ${figures(f.key, f.steady)?.used ?? '0/0'}, saturated ${figures(f.key, f.saturated)?.used ?? '0/0'}, connections ${f.connect ? (undisturbed(f.connect) ? 'clean' : 'DISTURBED') : '—'}`),
  ];
  ctx.notes.push(
    `balancer: redis-server + two roomlog nodes (one DATA_DIR), our balancer (BACKENDS = both nodes, per-IP limits raised to 1,000,000) and HAProxy (mode http, balance leastconn, option forwardfor, httpchk GET /readyz every 1 s, timeout tunnel 1h), all on 127.0.0.1. "same msgs" = one room whose ${fmt(cfg.balancerSubscribers)} subscribers are split evenly direct / balancer / HAProxy, publisher direct on node 1, so each message is timed on every path and the send path's noise cancels: each delivery is taken relative to the median direct arrival of the same message, pooled over the rounds used, and added = that quantile on the path minus the same quantile for direct; the added-latency target is judged on this (it covers the delivery leg node → front → client, not the send leg). "all via front" = publisher, sessions and subscribers all through the front, in its own room, compared with the direct room (different messages, so machine noise of the same order as what a proxy adds). "direct" = publisher on node 1, subscribers alternating between the nodes. Figures are medians over the rounds that other processes left undisturbed (all rounds if none was); undisturbed rounds used: ${used.join('; ')}. "front CPU per delivery/connection" = the proxy process's CPU time divided by what it carried: comparable even when the machine is contended (both use the machine's 2 cores: HAProxy 2 threads, our balancer 2 worker processes; the balancer's figure includes its workers).`,
  );
  return out;
}
