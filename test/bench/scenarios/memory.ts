/** 3. Idle memory per subscribed connection, from the server process's RSS. */
import type { OpenSubscribersResult } from '../load/protocol.js';
import { sleep } from '../load/stats.js';
import type { ServerKind } from '../serverProcess.js';
import { fmt, ratio, verdict, type Row } from '../table.js';
import { troubleLines, withServer, type Scenario } from './context.js';

const TARGET_KB = 20;
/** Issue 14: the node process itself (no npm, no loader), as the image and a supervisor run it. */
const IDLE_TARGET_MB = 120;

interface MemoryRun {
  /** Just started, settled, nothing connected: the node as `npm start` leaves it. */
  idleKb: number;
  beforeKb: number;
  afterKb: number;
  connections: number;
  perConnKb: number;
}

export const memoryScenario: Scenario = async (ctx) => {
  const { cfg } = ctx;
  const count = cfg.memoryConnections;
  // Opened and kept before the first reading, so lazily loaded code and first-use pools are not
  // charged to the measured connections.
  const warm = Math.max(10, Math.round(count / 50));
  const runs: Partial<Record<ServerKind, MemoryRun>> = {};
  for (const kind of cfg.kinds) {
    runs[kind] = await withServer(ctx, kind, 'memory', async (server, load) => {
      const url = server.url;
      await sleep(cfg.memorySettleMs);
      const idleKb = server.rssKb();
      await load.call({ cmd: 'prepareRoom', url }, 30_000);
      // Sessions first: their cost (JWT signing, user records) is not the connection's.
      await load.call({ cmd: 'createSessions', url, count: warm + count }, 600_000);
      const w = await load.call<OpenSubscribersResult>({ cmd: 'openSubscribers', url, count: warm, liveTimeoutMs: 30_000 }, 120_000);
      if (w.opened < warm) throw new Error(`warm-up: only ${w.opened}/${warm} subscribers opened: ${w.firstError}`);
      await sleep(cfg.memorySettleMs);
      const beforeKb = server.rssKb();
      const open = await load.call<OpenSubscribersResult>({ cmd: 'openSubscribers', url, count, liveTimeoutMs: 60_000 }, 900_000);
      ctx.log(`memory: ${kind}: ${open.opened} opened, ${open.live} live, ${open.failed} failed in ${fmt(open.elapsedMs)} ms`);
      if (open.failed || open.live < open.opened) {
        ctx.notes.push(`memory / ${kind}: ${open.failed} connections failed, ${open.opened - open.live} never saw a probe; first error: ${open.firstError ?? '—'}`);
      }
      await sleep(cfg.memorySettleMs);
      const afterKb = server.rssKb();
      await load.call({ cmd: 'closeAll' }, 60_000);
      for (const l of troubleLines(server)) ctx.notes.push(`memory / ${kind} server log: ${l}`);
      const perConnKb = (afterKb - beforeKb) / open.opened;
      ctx.log(`memory: ${kind}: RSS ${fmt(beforeKb / 1024, 1)} → ${fmt(afterKb / 1024, 1)} MB, ${fmt(perConnKb, 1)} KB/connection`);
      return { idleKb, beforeKb, afterKb, connections: open.opened, perConnKb };
    });
  }
  const a = runs.roomlog;
  const b = runs.bare;
  const mb = (r?: MemoryRun): string => (r ? `${fmt(r.beforeKb / 1024, 0)} → ${fmt(r.afterKb / 1024, 0)}` : '—');
  ctx.notes.push(`memory: RSS from /proc/<pid>/status after a ${cfg.memorySettleMs / 1000} s settle (no forced GC); ${warm} warm-up connections open before the first reading; every connection has its own session and a live roomEvents subscription confirmed by a probe message.`);
  const scenario = `3. idle memory, ${fmt(count)} subscribed conns`;
  return [
    { scenario, metric: 'KB per connection', roomlog: fmt(a?.perConnKb, 1), bare: fmt(b?.perConnKb, 1), ratio: ratio(a?.perConnKb, b?.perConnKb), target: `≤ ${TARGET_KB} KB`, result: a ? verdict(a.perConnKb <= TARGET_KB && a.connections === count) : '' },
    { scenario, metric: 'server RSS MB before → after', roomlog: mb(a), bare: mb(b), ratio: '', target: '', result: '' },
    {
      scenario: '3b. idle node process (started, nothing connected)',
      metric: 'RSS MB',
      roomlog: fmt(a ? a.idleKb / 1024 : undefined, 1),
      bare: fmt(b ? b.idleKb / 1024 : undefined, 1),
      ratio: ratio(a?.idleKb, b?.idleKb),
      target: `≤ ${IDLE_TARGET_MB} MB`,
      result: a ? verdict(a.idleKb / 1024 <= IDLE_TARGET_MB) : '',
    },
  ] satisfies Row[];
};
