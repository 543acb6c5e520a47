/** 2. Fan-out to many subscribers of one room: at a fixed rate (20 msg/s), then saturated (100 msg/s). */
import type { LoadClient } from '../loadProcess.js';
import type { OpenSubscribersResult, PublishResult } from '../load/protocol.js';
import type { ServerHandle, ServerKind } from '../serverProcess.js';
import { fmt, ratio, verdict, type Row } from '../table.js';
import { troubleLines, withCpu, withServer, type Scenario, type ScenarioContext } from './context.js';

interface FanoutRun {
  open: OpenSubscribersResult;
  steady: PublishResult;
  saturated: PublishResult;
}

async function runOne(ctx: ScenarioContext, kind: ServerKind, server: ServerHandle, load: LoadClient): Promise<FanoutRun> {
  const { cfg } = ctx;
  const url = server.url;
  await load.call({ cmd: 'prepareRoom', url }, 30_000);
  await load.call({ cmd: 'createSessions', url, count: cfg.fanoutSubscribers }, 300_000);
  const open = await load.call<OpenSubscribersResult>({ cmd: 'openSubscribers', url, count: cfg.fanoutSubscribers, liveTimeoutMs: 30_000 }, 400_000);
  ctx.log(`fanout: ${kind}: ${open.opened} subscribers open, ${open.live} live, ${open.failed} failed (${fmt(open.elapsedMs)} ms)`);
  if (open.failed || open.live < open.opened) {
    ctx.notes.push(`fanout / ${kind}: ${open.failed} subscribers failed to open, ${open.opened - open.live} never saw a probe; first error: ${open.firstError ?? '—'}`);
  }
  const phase = async (name: string, rate: number, ms: number): Promise<PublishResult> => {
    const r = await withCpu(ctx, `fanout / ${kind} / ${name}`, server, load, () =>
      load.call<PublishResult>({ cmd: 'publish', phase: name, ratePerSecond: rate, durationMs: ms, drainMs: 10_000 }, ms + 60_000),
    );
    ctx.log(`fanout: ${kind} @${rate} msg/s: ${fmt(r.deliveriesPerSecond)} deliveries/s, p50 ${fmt(r.latency.p50, 1)} ms, p99 ${fmt(r.latency.p99, 1)} ms, lost ${r.lost}, dup ${r.duplicates}, seq violations ${r.seqViolations}`);
    if (r.publishErrors) ctx.notes.push(`fanout / ${kind} / ${name}: ${r.publishErrors} publishes failed; first: ${r.firstError}`);
    if (r.lost || r.duplicates || r.outOfOrder || r.seqViolations || r.subscriberErrors) {
      ctx.notes.push(
        `fanout / ${kind} / ${name}: published ${r.published} to ${r.subscribers} subscribers = ${fmt(r.expected)} expected; delivered ${fmt(r.delivered)}, lost ${fmt(r.lost)}, duplicates ${r.duplicates}, out of order ${r.outOfOrder}, seq not increasing ${r.seqViolations}, subscriptions ended ${r.subscriberErrors}${r.firstError ? `; first error: ${r.firstError}` : ''}; last delivery ${fmt(r.drainMs)} ms after last publish`,
      );
    }
    return r;
  };
  // Unmeasured: lets both servers (and the load client) JIT-compile their delivery paths first.
  await load.call<PublishResult>({ cmd: 'publish', phase: 'warmup', ratePerSecond: cfg.fanoutRate, durationMs: 2_000, drainMs: 5_000 }, 60_000);
  const steady = await phase('steady', cfg.fanoutRate, cfg.fanoutMs);
  const saturated = await phase('saturated', cfg.saturatedRate, cfg.saturatedMs);
  await load.call({ cmd: 'closeAll' }, 30_000);
  for (const l of troubleLines(server)) ctx.notes.push(`fanout / ${kind} server log: ${l}`);
  return { open, steady, saturated };
}

export const fanoutScenario: Scenario = async (ctx) => {
  const { cfg } = ctx;
  const runs: Partial<Record<ServerKind, FanoutRun>> = {};
  for (const kind of cfg.kinds) runs[kind] = await withServer(ctx, kind, 'fanout', (server, load) => runOne(ctx, kind, server, load));
  const a = runs.roomlog;
  const b = runs.bare;
  const n = fmt(cfg.fanoutSubscribers);
  const steadyName = `2a. fan-out ${n} subs @${cfg.fanoutRate} msg/s (${fmt(cfg.fanoutSubscribers * cfg.fanoutRate)}/s offered)`;
  const satName = `2b. fan-out ${n} subs @${cfg.saturatedRate} msg/s (saturated)`;
  ctx.notes.push(`fanout: one room, one publisher socket (open loop), ${n} subscriber sockets each with its own session, all in one load-client process; latency = send timestamp in the body → receipt; steady ${cfg.fanoutMs / 1000} s, saturated ${cfg.saturatedMs / 1000} s; deliveries/s counts those received while publishing ran.`);
  const lat = (r?: PublishResult): string => (r ? `${fmt(r.latency.p50, 1)} / ${fmt(r.latency.p99, 1)}` : '—');
  const broken = (r?: PublishResult): number | undefined => (r ? r.duplicates + r.outOfOrder + r.seqViolations : undefined);
  return [
    { scenario: steadyName, metric: 'deliveries/s', roomlog: fmt(a?.steady.deliveriesPerSecond), bare: fmt(b?.steady.deliveriesPerSecond), ratio: ratio(a?.steady.deliveriesPerSecond, b?.steady.deliveriesPerSecond), target: '', result: '' },
    {
      scenario: steadyName,
      metric: 'latency p50 / p99 ms',
      roomlog: lat(a?.steady),
      bare: lat(b?.steady),
      ratio: ratio(a?.steady.latency.p99, b?.steady.latency.p99),
      target: 'p99 ≤ 2× bare',
      result: a && b ? verdict(a.steady.latency.p99 <= 2 * b.steady.latency.p99) : '',
    },
    { scenario: steadyName, metric: 'lost', roomlog: fmt(a?.steady.lost), bare: fmt(b?.steady.lost), ratio: '', target: '0', result: a ? verdict(a.steady.lost === 0 && a.steady.published > 0) : '' },
    { scenario: steadyName, metric: 'dup / reordered', roomlog: fmt(broken(a?.steady)), bare: fmt(broken(b?.steady)), ratio: '', target: '0', result: a ? verdict(broken(a.steady) === 0) : '' },
    {
      scenario: satName,
      metric: 'deliveries/s',
      roomlog: fmt(a?.saturated.deliveriesPerSecond),
      bare: fmt(b?.saturated.deliveriesPerSecond),
      ratio: ratio(a?.saturated.deliveriesPerSecond, b?.saturated.deliveriesPerSecond),
      target: '≥ 0.5× bare',
      result: a && b ? verdict(a.saturated.deliveriesPerSecond >= 0.5 * b.saturated.deliveriesPerSecond) : '',
    },
    { scenario: satName, metric: 'latency p50 / p99 ms', roomlog: lat(a?.saturated), bare: lat(b?.saturated), ratio: ratio(a?.saturated.latency.p99, b?.saturated.latency.p99), target: '', result: '' },
    { scenario: satName, metric: 'lost (after 10 s drain)', roomlog: fmt(a?.saturated.lost), bare: fmt(b?.saturated.lost), ratio: '', target: '', result: '' },
  ];
};
