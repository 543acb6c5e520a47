/**
 * 6. The roomlog balancer beside HAProxy (`balance leastconn`), both in front of the same two
 * roomlog nodes (one DATA_DIR, one Redis), plus direct-to-node as the reference:
 *   - added latency on the same messages: one room whose subscribers are split evenly between
 *     direct, via the balancer and via HAProxy (publisher direct on node 1), so the noise of the
 *     send path (SQLite commit, Redis, scheduling) is common to all three and cancels out;
 *   - fan-out through each front (publisher and subscribers all connect through it), steady then
 *     saturated, the fronts' phases interleaved over `balancerRounds` rounds;
 *   - new connections per second through each (open + upgrade + connection_init/ack + close).
 * Each front (and the mixed room) has its own room and subscribers, all open at once, so the
 * phases can alternate.
 */
import { nodeConnections, Procs, startBalancer, startHaproxy, startPair, startRedis, withCpuOf, type Aux } from '../cluster.js';
import type { ConnectRateResult } from '../load/protocol.js';
import { startLoadClient } from '../loadProcess.js';
import type { ServerHandle } from '../serverProcess.js';
import { fmt } from '../table.js';
import { balancerRows, type Front, type FrontKey } from './balancerRows.js';
import { troubleLines, type Scenario, type ScenarioContext } from './context.js';
import { keptUp, measuredPhase, openSubscribers, type MeasuredPhase } from './phases.js';

/** Fills in each front's figures; returns the mixed room's phases (latency group 0 direct, 1 balancer, 2 HAProxy), one per round. */
async function measure(ctx: ScenarioContext, fronts: Front[], nodes: ServerHandle[], pids: Record<string, number>, procs: Procs, mixed: MeasuredPhase[]): Promise<void> {
  const { cfg } = ctx;
  const load = procs.add(startLoadClient());
  pids.load = load.pid;
  for (const [i, f] of fronts.entries()) {
    await load.call({ cmd: 'prepareRoom', key: f.key, url: f.url, sessionsFrom: i === 0 ? undefined : fronts[0]!.key }, 30_000);
    if (i === 0) await load.call({ cmd: 'createSessions', key: f.key, url: f.url, count: cfg.balancerSubscribers }, 600_000);
    const before = await Promise.all(nodes.map(nodeConnections));
    await openSubscribers(ctx, `balancer / ${f.key}`, load, { key: f.key, url: f.url, urls: f.subUrls, count: cfg.balancerSubscribers });
    const after = await Promise.all(nodes.map(nodeConnections));
    const split = after.map((a, n) => (a === undefined || before[n] === undefined ? '?' : String(a - before[n]!))).join(' / ');
    ctx.notes.push(`balancer / ${f.key}: opening ${fmt(cfg.balancerSubscribers)} subscribers (plus the publisher) added ${split} connections on node 1 / node 2.`);
  }
  // The mixed room: publisher direct on node 1; subscribers direct (both nodes) / balancer / HAProxy in turn.
  const [n1, n2] = [nodes[0]!.url, nodes[1]!.url];
  const via = fronts.slice(1).map((f) => f.url);
  await load.call({ cmd: 'prepareRoom', key: 'mixed', url: n1, sessionsFrom: fronts[0]!.key }, 30_000);
  await openSubscribers(ctx, 'balancer / mixed', load, {
    key: 'mixed',
    url: n1,
    urls: [n1, ...via, n2, ...via],
    groups: [0, ...via.map((_, g) => g + 1), 0, ...via.map((_, g) => g + 1)],
    count: cfg.balancerSubscribers,
  });
  for (const key of ['mixed', ...fronts.map((f) => f.key)]) {
    await load.call({ cmd: 'publish', key, phase: 'warmup', ratePerSecond: cfg.balancerRate, durationMs: 2_000, drainMs: 5_000 }, 60_000);
  }
  // One round more than the others: the added-latency target is judged on these.
  for (let round = 1; round <= cfg.balancerRounds + 1; round++) {
    const label = `balancer / mixed room / @${cfg.balancerRate} msg/s / round ${round}`;
    const p = await measuredPhase(ctx, label, load, pids, { key: 'mixed', phase: `mixed${round}`, ratePerSecond: cfg.balancerRate, durationMs: cfg.balancerMs, relative: true });
    mixed.push(p);
    const paths = ['direct', ...fronts.slice(1).map((f) => f.key)];
    ctx.notes.push(`${label}: p50 / p99 / max ms by path: ${p.latencyByGroup.map((l, g) => `${paths[g]} ${fmt(l.p50, 2)} / ${fmt(l.p99, 2)} / ${fmt(l.max, 1)} (${fmt(l.count)})`).join('; ')}`);
  }
  await load.call({ cmd: 'closeAll', key: 'mixed' }, 30_000);
  for (const [list, rate, ms] of [['steady', cfg.balancerRate, cfg.balancerMs], ['saturated', cfg.balancerSaturatedRate, cfg.balancerSaturatedMs]] as const) {
    for (let round = 1; round <= cfg.balancerRounds; round++) {
      for (const f of fronts) {
        const label = `balancer / ${f.key} / @${rate} msg/s / round ${round}`;
        const p = await measuredPhase(ctx, label, load, pids, { key: f.key, phase: `${list}${round}`, ratePerSecond: rate, durationMs: ms });
        f[list].push(p);
        if (list === 'saturated') ctx.notes.push(`${label}: ${keptUp(p)}.`);
      }
    }
  }
  for (const f of fronts) await load.call({ cmd: 'closeAll', key: f.key }, 30_000);
  for (const f of fronts) {
    const { result, cores, other } = await withCpuOf(ctx, `balancer / ${f.key} / new connections`, pids, () =>
      load.call<ConnectRateResult>({ cmd: 'connectRate', urls: f.subUrls, durationMs: cfg.connectMs, concurrency: cfg.connectConcurrency, maxConnections: cfg.connectMax }, cfg.connectMs + 120_000),
    );
    f.connect = { ...result, cores, other };
    ctx.log(`balancer / ${f.key}: ${fmt(result.perSecond)} new connections/s, connect→ack p50 ${fmt(result.latency.p50, 1)} ms, p99 ${fmt(result.latency.p99, 1)} ms, ${result.failed} failed`);
    if (result.failed) ctx.notes.push(`balancer / ${f.key} / new connections: ${result.failed} failed; first: ${result.firstError}`);
  }
}

export const balancerScenario: Scenario = async (ctx) => {
  const { cfg } = ctx;
  if (!cfg.kinds.includes('roomlog')) return [];
  const procs = new Procs();
  const fronts: Front[] = [];
  const mixed: MeasuredPhase[] = [];
  let nodes: ServerHandle[] = [];
  let bal: ServerHandle | undefined;
  let hap: Aux | { missing: string } | undefined;
  let measuringSince = Infinity;
  try {
    const redis = procs.add(await startRedis());
    nodes = await startPair(ctx, 'roomlog', redis.url, 'balancer', procs);
    bal = await startBalancer(ctx, nodes, procs);
    ctx.log(`balancer at ${bal.url} (pid ${bal.pid})`);
    hap = await startHaproxy(ctx, nodes, procs);
    const pids: Record<string, number> = { node1: nodes[0]!.pid, node2: nodes[1]!.pid, redis: redis.pid, balancer: bal.pid };
    const front = (key: FrontKey, url: string, subUrls: string[]): Front => ({ key, url, subUrls, steady: [], saturated: [] });
    fronts.push(front('direct', nodes[0]!.url, nodes.map((n) => n.url)), front('balancer', bal.url, [bal.url]));
    if ('pid' in hap) {
      pids.haproxy = hap.pid;
      fronts.push(front('haproxy', hap.url, [hap.url]));
    } else ctx.notes.push(`balancer: HAProxy not measured: ${hap.missing}`);
    measuringSince = Date.now();
    await measure(ctx, fronts, nodes, pids, procs, mixed);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    ctx.notes.push(`balancer: FAILED: ${msg.split('\n').slice(0, 12).join('\n    ')}`);
    for (const h of [...nodes, ...(bal ? [bal] : [])]) ctx.notes.push(`  ${h.url} last output:\n    ${h.output.slice(-6).join('\n    ')}`);
    ctx.log(`balancer: failed: ${msg.split('\n')[0]}`);
  } finally {
    for (const [i, h] of [...nodes, ...(bal ? [bal] : [])].entries()) {
      const ended = h.unexpectedEnd();
      if (ended) ctx.notes.push(`balancer: WARNING: ${i < nodes.length ? `node ${i + 1}` : 'the balancer'} (pid ${h.pid}) ${ended}; figures are not valid`);
      for (const l of troubleLines(h)) ctx.notes.push(`balancer / ${i < nodes.length ? `node ${i + 1}` : 'balancer'} log: ${l}`);
    }
    // Health-check verdicts under load: a node ejected mid-run changes where new connections go.
    const events = bal?.output.filter((l) => /backend (ejected|restored|removed)/.test(l) && Number(/"time":(\d+)/.exec(l)?.[1] ?? 0) > measuringSince) ?? [];
    if (events.length) ctx.notes.push(`balancer: ${events.length} backend ejected/restored/removed events while measuring; last: ${events.slice(-4).map((l) => l.slice(0, 160)).join(' | ')}`);
    const hapEvents = hap && 'pid' in hap ? hap.output.filter((l) => /is DOWN|is UP|ALERT/.test(l)) : [];
    if (hapEvents.length) ctx.notes.push(`balancer / haproxy said (${hapEvents.length} server UP/DOWN/ALERT lines, startup included; last 4): ${hapEvents.slice(-4).map((l) => l.slice(0, 200)).join(' | ')}`);
    await procs.stopAll();
  }
  return balancerRows(ctx, fronts, mixed, hap && !('pid' in hap) ? hap.missing : undefined);
};

