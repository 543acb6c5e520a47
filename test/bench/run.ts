/**
 * `npm run bench [-- --only throughput,fanout,memory,replay,fanout2,balancer,rebuild,readafterwrite,abusequeries,abusejoins,abuseflood,capacity,scale,stores] [--quick] [--servers roomlog,bare]
 *                [--store sqlite|memory] [--server-root <checkout>] [--rooms <n>] [--json out.json]`
 *
 * One roomlog node against a bare `ws` broadcast server, each in its own child process, driven by
 * one load-client child process. Prints one table (figure, baseline, ratio, target, PASS/MISS)
 * and the notes behind it. Every child is killed at the end, however the run ends.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fdLimits, killAllChildrenNow, killChildrenOnExit, repoRoot } from './processes.js';
import { configFor, makeTmpRoot, type BenchConfig, type Scenario, type ScenarioContext } from './scenarios/context.js';
import { abuseFloodScenario } from './scenarios/abuseFlood.js';
import { abuseJoinsScenario } from './scenarios/abuseJoins.js';
import { abuseQueriesScenario } from './scenarios/abuseQueries.js';
import { balancerScenario } from './scenarios/balancer.js';
import { capacityScenario } from './scenarios/capacity.js';
import { fanoutScenario } from './scenarios/fanout.js';
import { fanout2Scenario } from './scenarios/fanout2.js';
import { memoryScenario } from './scenarios/memory.js';
import { readAfterWriteScenario } from './scenarios/readAfterWrite.js';
import { rebuildScenario } from './scenarios/rebuild.js';
import { replayScenario } from './scenarios/replay.js';
import { scaleScenario } from './scenarios/scale.js';
import { storesScenario } from './scenarios/stores.js';
import { throughputScenario } from './scenarios/throughput.js';
import type { ServerKind } from './serverProcess.js';
import { renderTable, type Row } from './table.js';

const SCENARIOS: Record<string, Scenario> = {
  throughput: throughputScenario,
  fanout: fanoutScenario,
  memory: memoryScenario,
  replay: replayScenario,
  fanout2: fanout2Scenario,
  balancer: balancerScenario,
  rebuild: rebuildScenario,
  readafterwrite: readAfterWriteScenario,
  abusequeries: abuseQueriesScenario,
  abusejoins: abuseJoinsScenario,
  abuseflood: abuseFloodScenario,
  capacity: capacityScenario,
  scale: scaleScenario,
  stores: storesScenario,
};

function parseCli(): { cfg: BenchConfig; only: string[]; json?: string } {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      quick: { type: 'boolean', default: false },
      servers: { type: 'string', default: 'roomlog,bare' },
      store: { type: 'string', default: 'sqlite' },
      'server-root': { type: 'string', default: repoRoot },
      rooms: { type: 'string', default: '1' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log('npm run bench -- [--only throughput|fanout|memory|replay|fanout2|balancer|rebuild|readafterwrite|abusequeries|abusejoins|abuseflood|capacity|scale|stores (comma list)] [--quick] [--servers roomlog,bare] [--store sqlite|memory] [--server-root dir] [--rooms N (throughput)] [--json file]');
    process.exit(0);
  }
  const only = (values.only ?? Object.keys(SCENARIOS)).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  const unknown = only.filter((s) => !SCENARIOS[s]);
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; choose from ${Object.keys(SCENARIOS).join(', ')}`);
  const kinds = values.servers.split(',').map((s) => s.trim()) as ServerKind[];
  if (kinds.some((k) => k !== 'roomlog' && k !== 'bare')) throw new Error('--servers takes roomlog and/or bare');
  const throughputRooms = Number(values.rooms);
  if (!Number.isInteger(throughputRooms) || throughputRooms < 1) throw new Error('--rooms takes a whole number ≥ 1');
  return { cfg: { ...configFor(values.quick), throughputRooms, kinds, eventStore: values.store, serverRoot: resolve(values['server-root']) }, only, json: values.json };
}

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

async function main(): Promise<void> {
  killChildrenOnExit();
  const { cfg, only, json } = parseCli();
  const notes: string[] = [];
  if (cfg.kinds.includes('roomlog') && !existsSync(join(cfg.serverRoot, 'src/main.ts'))) {
    notes.push(`${join(cfg.serverRoot, 'src/main.ts')} does not exist yet: measured the bare baseline only.`);
    cfg.kinds = cfg.kinds.filter((k) => k !== 'roomlog');
  }
  const limits = fdLimits();
  const fdsNeeded =
    Math.max(
      only.includes('memory') ? cfg.memoryConnections * 1.02 : cfg.fanoutSubscribers,
      // fanout2 keeps both clusters' subscribers open at once.
      only.includes('fanout2') ? cfg.fanout2Subscribers * 2 : 0,
      // The balancer scenario keeps three sets of subscribers open at once, and a proxy holds two fds per connection.
      only.includes('balancer') ? cfg.balancerSubscribers * 3 : 0,
      // scale: 15,000 connections on one node (its load clients are several processes).
      only.includes('scale') ? (cfg.quick ? 3_000 : 15_000) : 0,
    ) + 500;
  if (limits.hard < fdsNeeded) {
    const warning = `WARNING: the open-files hard limit is ${limits.hard}, below the ~${Math.ceil(fdsNeeded)} each server and the load client need; connections will fail. Raise it (ulimit -Hn) and rerun.`;
    log(warning);
    notes.push(warning);
  }
  const tmpRoot = makeTmpRoot();
  // 'exit' also runs on Ctrl-C (processes.ts exits on signals), so the temp data never outlives us.
  process.on('exit', () => rmSync(tmpRoot, { recursive: true, force: true }));
  let dirs = 0;
  const ctx: ScenarioContext = {
    cfg,
    notes,
    log,
    tmpDir: (label) => {
      const dir = join(tmpRoot, `${String(++dirs).padStart(2, '0')}-${label}`);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
  };
  log(`scenarios ${only.join(', ')}; servers ${cfg.kinds.join(', ')}; ${cfg.quick ? 'quick' : 'full'} sizes; temp ${tmpRoot}`);
  const rows: Row[] = [];
  const t0 = performance.now();
  try {
    for (const name of only) {
      log(`── ${name}`);
      try {
        rows.push(...(await SCENARIOS[name]!(ctx)));
      } catch (e) {
        notes.push(`${name}: FAILED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        log(`${name} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  } finally {
    killAllChildrenNow();
    rmSync(tmpRoot, { recursive: true, force: true });
  }
  const cpu = `${process.platform}, ${(await import('node:os')).cpus().length} cores, Node ${process.versions.node}`;
  console.log(`\nroomlog bench — one node (EVENT_STORE=${cfg.eventStore}; fanout2/balancer/readafterwrite: two nodes on sqlite + Redis) vs bare ws baseline — ${cfg.quick ? 'QUICK sizes' : 'full sizes'} — ${cpu} — ${Math.round((performance.now() - t0) / 1000)} s`);
  console.log(renderTable(rows));
  if (notes.length) console.log(`\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}`);
  if (json) writeFileSync(json, JSON.stringify({ config: cfg, rows, notes }, null, 2));
}

main().catch((e: unknown) => {
  console.error(e);
  killAllChildrenNow();
  process.exit(1);
});
