/** 1. sendMessage throughput over WebSocket at 1, 10 and 100 concurrent senders. */
import type { ThroughputRequest, ThroughputResult } from '../load/protocol.js';
import type { ServerKind } from '../serverProcess.js';
import { ackLatencyRow, fmt, ratio, verdict, type Row } from '../table.js';
import { troubleLines, withCpu, withServer, type Scenario } from './context.js';

const TARGET_SENDS = 5_000;

export const throughputScenario: Scenario = async (ctx) => {
  const { cfg } = ctx;
  const results: Record<ServerKind, Map<number, ThroughputResult>> = { roomlog: new Map(), bare: new Map() };
  for (const kind of cfg.kinds) {
    await withServer(ctx, kind, 'throughput', async (server, load) => {
      for (const senders of cfg.senders) {
        const req: ThroughputRequest = {
          cmd: 'throughput',
          url: server.url,
          senders,
          rooms: cfg.throughputRooms,
          durationMs: cfg.throughputMs,
          maxMessages: cfg.throughputMaxMessages,
        };
        const r = await withCpu(ctx, `throughput / ${kind} / ${senders} senders`, server, load, () => load.call<ThroughputResult>(req, cfg.throughputMs + 120_000));
        results[kind].set(senders, r);
        ctx.log(`throughput: ${kind} ${senders} senders: ${fmt(r.perSecond)} sends/s, p50 ${fmt(r.latency.p50, 2)} ms, p99 ${fmt(r.latency.p99, 2)} ms, ${r.errors} errors`);
        if (r.errors) ctx.notes.push(`throughput / ${kind} / ${senders} senders: ${r.errors} failed sends; first: ${r.firstError}`);
        if (r.duplicateSeqs) ctx.notes.push(`throughput / ${kind} / ${senders} senders: ${r.duplicateSeqs} acks carried a seq already returned for the same room (sequence guarantee broken)`);
      }
      for (const l of troubleLines(server)) ctx.notes.push(`throughput / ${kind} server log: ${l}`);
    });
  }

  const rooms = cfg.throughputRooms === 1 ? 'all senders in one room' : `senders spread over ${cfg.throughputRooms} rooms`;
  ctx.notes.push(`throughput: closed loop, one sendMessage in flight per sender, each sender its own session + socket, ${rooms}; ${cfg.throughputMs / 1000} s per level (max ${fmt(cfg.throughputMaxMessages)} msgs); target applies to the highest concurrency.`);
  const rows: Row[] = [];
  const top = Math.max(...cfg.senders);
  for (const senders of cfg.senders) {
    const a = results.roomlog.get(senders);
    const b = results.bare.get(senders);
    const scenario = `1. sendMessage over WS, ${senders} sender${senders === 1 ? '' : 's'}`;
    const isTop = senders === top;
    rows.push({
      scenario,
      metric: 'sends/s (acked)',
      roomlog: fmt(a?.perSecond),
      bare: fmt(b?.perSecond),
      ratio: ratio(a?.perSecond, b?.perSecond),
      target: isTop ? `≥ ${fmt(TARGET_SENDS)}` : '',
      result: isTop && a ? verdict(a.perSecond >= TARGET_SENDS && a.errors === 0) : '',
    });
    rows.push(ackLatencyRow(scenario, a, b));
    if (a && (a.errors || a.duplicateSeqs)) {
      rows.push({ scenario, metric: 'failed sends / dup seqs', roomlog: `${a.errors} / ${a.duplicateSeqs}`, bare: b ? `${b.errors} / ${b.duplicateSeqs}` : '—', ratio: '', target: '0 / 0', result: 'MISS' });
    }
  }
  return rows;
};
