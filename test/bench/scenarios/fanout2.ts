/**
 * 5. Fan-out over two nodes: one room, subscribers split evenly over two nodes sharing a Redis
 * (and, for roomlog, one SQLite DATA_DIR and JWT secret); every send goes to node 1, so node 2's
 * subscribers get each message through Redis. A steady rate, then a saturating one.
 * Baseline: two bare ws servers that publish through Redis and broadcast what comes back.
 *
 * Both clusters (each with its own redis-server) run side by side, idle but for the one being
 * measured, so their phases alternate over `fanout2Rounds` rounds; figures are medians over the
 * rounds other processes left undisturbed (as in the balancer scenario).
 */
import { nodeConnections, Procs, startPair, startRedis, undisturbed, type Aux } from '../cluster.js';
import { waitForQuiet } from '../cpuMonitor.js';
import { startLoadClient, type LoadClient } from '../loadProcess.js';
import type { OpenSubscribersResult } from '../load/protocol.js';
import type { ServerHandle, ServerKind } from '../serverProcess.js';
import { fmt, ratio, verdict, type Row } from '../table.js';
import { troubleLines, type Scenario, type ScenarioContext } from './context.js';
import { broken, keptUp, measuredPhase, median, openSubscribers, pick, type MeasuredPhase } from './phases.js';

interface Cluster {
  kind: ServerKind;
  redis: Aux;
  nodes: ServerHandle[];
  steady: MeasuredPhase[];
  saturated: MeasuredPhase[];
  /** Each timed opening of the subscribers: connect, connection_init, subscribe, until each saw a probe. */
  opens: OpenSubscribersResult[];
  /** The nodes' RSS (KB) once the subscribers are open and idle. */
  rssKb?: number[];
}

interface Summary {
  deliveries: number;
  p50: number;
  p99: number;
  /** p99 of the subscribers on node 1 / node 2. */
  byNode: number[];
  lost: number;
  broken: number;
  published: number;
  used: string;
}

function summary(phases: MeasuredPhase[]): Summary | undefined {
  if (!phases.length) return undefined;
  const use = pick(phases);
  return {
    deliveries: median(use.map((p) => p.deliveriesPerSecond)),
    p50: median(use.map((p) => p.latency.p50)),
    p99: median(use.map((p) => p.latency.p99)),
    byNode: [0, 1].map((g) => median(use.map((p) => p.latencyByGroup[g]?.p99 ?? NaN))),
    lost: phases.reduce((s, p) => s + p.lost, 0),
    broken: phases.reduce((s, p) => s + (broken(p) ?? 0), 0),
    published: phases.reduce((s, p) => s + p.published, 0),
    used: `${phases.filter(undisturbed).length}/${phases.length}`,
  };
}

async function measure(ctx: ScenarioContext, clusters: Cluster[], procs: Procs): Promise<void> {
  const { cfg } = ctx;
  const load = procs.add(startLoadClient());
  const pids: Record<string, number> = { load: load.pid };
  for (const c of clusters) Object.assign(pids, { [`${c.kind}1`]: c.nodes[0]!.pid, [`${c.kind}2`]: c.nodes[1]!.pid, [`${c.kind}Redis`]: c.redis.pid });
  for (const c of clusters) {
    await load.call({ cmd: 'prepareRoom', key: c.kind, url: c.nodes[0]!.url }, 30_000);
    await load.call({ cmd: 'createSessions', key: c.kind, url: c.nodes[0]!.url, count: cfg.fanout2Subscribers }, 600_000);
  }
  await openRounds(ctx, clusters, load);
  for (const c of clusters) {
    const [n1, n2] = c.nodes as [ServerHandle, ServerHandle];
    c.rssKb = c.nodes.map((n) => n.rssKb());
    if (c.kind === 'roomlog') {
      const [c1, c2] = await Promise.all([nodeConnections(n1), nodeConnections(n2)]);
      ctx.notes.push(`fanout2 / roomlog: the nodes report ${c1 ?? '?'} / ${c2 ?? '?'} open WebSocket connections (subscribers alternate between them; node 1 also has the publisher).`);
    }
  }
  // Unmeasured: JIT-compiles the delivery paths of every process first.
  for (const c of clusters) await load.call({ cmd: 'publish', key: c.kind, phase: 'warmup', ratePerSecond: cfg.fanout2Rate, durationMs: 2_000, drainMs: 5_000 }, 60_000);
  for (const [list, rate, ms] of [['steady', cfg.fanout2Rate, cfg.fanout2Ms], ['saturated', cfg.fanout2SaturatedRate, cfg.fanout2SaturatedMs]] as const) {
    for (let round = 1; round <= cfg.fanout2Rounds; round++) {
      for (const c of clusters) {
        const label = `fanout2 / ${c.kind} / @${rate} msg/s / round ${round}`;
        const p = await measuredPhase(ctx, label, load, pids, { key: c.kind, phase: `${list}${round}`, ratePerSecond: rate, durationMs: ms });
        c[list].push(p);
        if (list === 'saturated') ctx.notes.push(`${label}: ${keptUp(p)}.`);
      }
    }
  }
  for (const c of clusters) await load.call({ cmd: 'closeAll', key: c.kind }, 30_000);
}

/**
 * 5c. The load client opens every socket of both clusters, so whichever cluster it opened first
 * paid for compiling its connect path: the figure depended on the order. First an untimed opening
 * of a few hundred subscribers on each cluster (closed again), then `fanout2OpenRounds` timed
 * openings per cluster, the clusters taking turns to go first; between rounds the subscribers are
 * closed and the nodes left to go quiet. The last round's subscribers stay open for the fan-out.
 */
async function openRounds(ctx: ScenarioContext, clusters: Cluster[], load: LoadClient): Promise<void> {
  const { cfg } = ctx;
  const open = (c: Cluster, count: number, label: string) =>
    openSubscribers(ctx, `fanout2 / ${c.kind} / ${label}`, load, { key: c.kind, url: c.nodes[0]!.url, urls: c.nodes.map((n) => n.url), count, probeIntervalMs: 50 });
  const closeAndSettle = async (c: Cluster) => {
    await load.call({ cmd: 'closeSubscribers', key: c.kind }, 30_000);
    // Closing is work for the nodes too: let it end before the next opening is timed.
    await waitForQuiet([load.pid], 0.3, cfg.quietWaitMs);
  };
  for (const c of clusters) {
    await open(c, cfg.fanout2WarmupSubscribers, 'warm-up (not timed)');
    await closeAndSettle(c);
  }
  for (let round = 1; round <= cfg.fanout2OpenRounds; round++) {
    const order = round % 2 === 1 ? clusters : [...clusters].reverse();
    for (const c of order) {
      c.opens.push(await open(c, cfg.fanout2Subscribers, `opening ${round}`));
      if (round < cfg.fanout2OpenRounds) await closeAndSettle(c);
    }
  }
}

export const fanout2Scenario: Scenario = async (ctx) => {
  const { cfg } = ctx;
  const procs = new Procs();
  const clusters: Cluster[] = [];
  try {
    for (const kind of cfg.kinds) {
      try {
        const redis = procs.add(await startRedis());
        clusters.push({ kind, redis, nodes: await startPair(ctx, kind, redis.url, 'fanout2', procs), steady: [], saturated: [], opens: [] });
      } catch (e) {
        ctx.notes.push(`fanout2 / ${kind}: FAILED to start: ${(e instanceof Error ? e.message : String(e)).split('\n').slice(0, 12).join('\n    ')}`);
      }
    }
    if (clusters.length) await measure(ctx, clusters, procs);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    ctx.notes.push(`fanout2: FAILED: ${msg.split('\n').slice(0, 12).join('\n    ')}`);
    for (const c of clusters) for (const [i, n] of c.nodes.entries()) ctx.notes.push(`  ${c.kind} node ${i + 1} last output:\n    ${n.output.slice(-6).join('\n    ')}`);
    ctx.log(`fanout2: failed: ${msg.split('\n')[0]}`);
  } finally {
    for (const c of clusters) {
      for (const [i, n] of c.nodes.entries()) {
        const ended = n.unexpectedEnd();
        if (ended) ctx.notes.push(`fanout2 / ${c.kind}: WARNING: node ${i + 1} (pid ${n.pid}) ${ended}; figures are not valid`);
        for (const l of troubleLines(n)) ctx.notes.push(`fanout2 / ${c.kind} node ${i + 1} log: ${l}`);
      }
    }
    await procs.stopAll();
  }
  return rows(ctx, clusters);
};

interface Opened {
  liveMs: number;
  connectedMs: number;
  /** Every subscriber of every timed opening was live. */
  allLive: boolean;
}

function opened(c: Cluster | undefined): Opened | undefined {
  if (!c?.opens.length) return undefined;
  return {
    liveMs: median(c.opens.map((o) => o.liveMs)),
    connectedMs: median(c.opens.map((o) => o.connectedMs)),
    allLive: c.opens.every((o) => o.live === o.opened && o.failed === 0),
  };
}

function rows(ctx: ScenarioContext, clusters: Cluster[]): Row[] {
  const { cfg } = ctx;
  const get = (k: ServerKind): Cluster | undefined => clusters.find((c) => c.kind === k);
  const [sa, sb] = [summary(get('roomlog')?.steady ?? []), summary(get('bare')?.steady ?? [])];
  const [ta, tb] = [summary(get('roomlog')?.saturated ?? []), summary(get('bare')?.saturated ?? [])];
  const n = cfg.fanout2Subscribers;
  const steadyName = `5a. 2 nodes + Redis, ${fmt(n)} subs @${cfg.fanout2Rate} msg/s (${fmt(n * cfg.fanout2Rate)}/s offered)`;
  const satName = `5b. 2 nodes + Redis, ${fmt(n)} subs @${cfg.fanout2SaturatedRate} msg/s (${fmt(n * cfg.fanout2SaturatedRate)}/s offered)`;
  const lat = (s?: Summary): string => (s ? `${fmt(s.p50, 1)} / ${fmt(s.p99, 1)}` : '—');
  const byNode = (s?: Summary): string => (s ? s.byNode.map((v) => fmt(v, 1)).join(' / ') : '—');
  const used = clusters.map((c) => `${c.kind} steady ${summary(c.steady)?.used ?? '0/0'}, saturated ${summary(c.saturated)?.used ?? '0/0'}`).join('; ');
  ctx.notes.push(
    `fanout2: per cluster a private redis-server and two nodes (roomlog: same DATA_DIR, REDIS_URL, JWT_SECRET, MAX_SUBSCRIPTIONS_PER_CONNECTION raised for the one publisher socket; bare: bareWsServer.ts with REDIS_URL, frame built once per node), one room, ${fmt(n)} subscriber sockets alternating between the nodes, one publisher socket on node 1 (open loop); latency = send timestamp in the body → receipt; steady ${cfg.fanout2Ms / 1000} s, saturated ${cfg.fanout2SaturatedMs / 1000} s, ${cfg.fanout2Rounds} interleaved round(s); all load from one load-client process on the same 2 cores, so "saturated" is the machine's limit shared with the load client (see its CPU above). Medians over undisturbed rounds; undisturbed rounds: ${used}.`,
  );
  const [oa, ob] = [opened(get('roomlog')), opened(get('bare'))];
  const openName = `5c. 2 nodes + Redis, ${fmt(n)} subscribers opened, 100 in flight`;
  const seconds = (o?: Opened) => (o ? o.liveMs / 1000 : undefined);
  const each = (c?: Cluster) => (c?.opens.length ? c.opens.map((o) => fmt(o.liveMs / 1000, 2)).join(', ') : '—');
  const rss = (c?: Cluster) => (c?.rssKb ? c.rssKb.map((kb) => fmt(kb / 1024, 0)).join(' / ') : '—');
  ctx.notes.push(
    `fanout2 / connect: per subscriber a WebSocket connect, connection_init → ack and a roomEvents subscribe, 100 at a time, split over the two nodes; "connected and subscribed" ends when every subscriber has seen a probe message (sent every 50 ms). After an untimed opening of ${fmt(cfg.fanout2WarmupSubscribers)} on each cluster, ${cfg.fanout2OpenRounds} timed opening(s) per cluster, the clusters taking turns to go first, closed and left to go quiet between them; the median is in the table. Each opening, s: roomlog ${each(get('roomlog'))}; bare ${each(get('bare'))}. Sockets open and subscribe sent after (median) roomlog ${fmt(oa?.connectedMs)} ms, bare ${fmt(ob?.connectedMs)} ms.`,
  );
  return [
    { scenario: openName, metric: 'connected and subscribed, s (median)', roomlog: fmt(seconds(oa), 2), bare: fmt(seconds(ob), 2), ratio: ratio(seconds(oa), seconds(ob)), target: '≤ 1.5× bare', result: oa && ob ? verdict(oa.liveMs <= 1.5 * ob.liveMs && oa.allLive) : '' },
    { scenario: openName, metric: 'node RSS MB, node 1 / node 2', roomlog: rss(get('roomlog')), bare: rss(get('bare')), ratio: '', target: '', result: '' },
    { scenario: steadyName, metric: 'deliveries/s', roomlog: fmt(sa?.deliveries), bare: fmt(sb?.deliveries), ratio: ratio(sa?.deliveries, sb?.deliveries), target: '', result: '' },
    { scenario: steadyName, metric: 'latency p50 / p99 ms', roomlog: lat(sa), bare: lat(sb), ratio: ratio(sa?.p99, sb?.p99), target: 'p99 ≤ 2× bare', result: sa && sb ? verdict(sa.p99 <= 2 * sb.p99) : '' },
    { scenario: steadyName, metric: 'p99 ms, subs on node 1 / node 2', roomlog: byNode(sa), bare: byNode(sb), ratio: '', target: '', result: '' },
    { scenario: steadyName, metric: 'lost', roomlog: fmt(sa?.lost), bare: fmt(sb?.lost), ratio: '', target: '0', result: sa ? verdict(sa.lost === 0 && sa.published > 0) : '' },
    { scenario: steadyName, metric: 'dup / reordered', roomlog: fmt(sa?.broken), bare: fmt(sb?.broken), ratio: '', target: '0', result: sa ? verdict(sa.broken === 0) : '' },
    { scenario: satName, metric: 'deliveries/s', roomlog: fmt(ta?.deliveries), bare: fmt(tb?.deliveries), ratio: ratio(ta?.deliveries, tb?.deliveries), target: '≥ 0.9× bare', result: ta && tb ? verdict(ta.deliveries >= 0.9 * tb.deliveries) : '' },
    { scenario: satName, metric: 'latency p50 / p99 ms', roomlog: lat(ta), bare: lat(tb), ratio: ratio(ta?.p99, tb?.p99), target: 'p99 ≤ 1.5× bare', result: ta && tb ? verdict(ta.p99 <= 1.5 * tb.p99) : '' },
    { scenario: satName, metric: 'lost (after 10 s drain)', roomlog: fmt(ta?.lost), bare: fmt(tb?.lost), ratio: '', target: '0', result: ta ? verdict(ta.lost === 0 && ta.published > 0) : '' },
    { scenario: satName, metric: 'dup / reordered', roomlog: fmt(ta?.broken), bare: fmt(tb?.broken), ratio: '', target: '0', result: ta ? verdict(ta.broken === 0) : '' },
  ];
}
