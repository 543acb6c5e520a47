/** 4. Replay rate at start: a DATA_DIR holding N events, timed from spawn until `listening on`. */
import { waitForQuiet } from '../cpuMonitor.js';
import type { ThroughputResult } from '../load/protocol.js';
import { createRoom, createSession, gqlHttp } from '../load/http.js';
import { startLoadClient } from '../loadProcess.js';
import { seedEvents, type SeedResult, type Template } from '../replay/seedEvents.js';
import { startServer, type ServerHandle } from '../serverProcess.js';
import { fmt, verdict, type Row } from '../table.js';
import type { Scenario, ScenarioContext } from './context.js';

const TARGET_RATE = 100_000;
const ENV = { EVENT_STORE: 'sqlite' };

async function writeTemplate(server: ServerHandle): Promise<Template> {
  const owner = await createSession(server.url, 'replay-template');
  const roomId = await createRoom(server.url, owner.token, 'replay-template');
  const clientMessageId = 'replay-template-message';
  const sent = await gqlHttp<{ sendMessage: { id: string } }>(
    server.url,
    'mutation($roomId: ID!, $clientMessageId: ID!) { sendMessage(roomId: $roomId, body: "replay bench", clientMessageId: $clientMessageId) { id } }',
    { roomId, clientMessageId },
    owner.token,
  );
  return { roomId, messageId: sent.sendMessage.id, clientMessageId };
}

/** Fallback when the SQLite adapter cannot be imported: produce the events through the API. */
async function seedThroughApi(ctx: ScenarioContext, dataDir: string, total: number): Promise<SeedResult> {
  const t0 = performance.now();
  const server = await startServer('roomlog', { dataDir, env: ENV, serverRoot: ctx.cfg.serverRoot });
  const load = startLoadClient();
  try {
    const r = await load.call<ThroughputResult>({ cmd: 'throughput', url: server.url, senders: 50, rooms: 50, durationMs: 600_000, maxMessages: total }, 700_000);
    ctx.notes.push(`replay: seeded through the API (${fmt(r.perSecond)} sends/s); room ids unknown, so no headSeq check.`);
    return { events: r.acked + 50 * 6, rooms: [], elapsedMs: performance.now() - t0 };
  } finally {
    await load.stop();
    await server.stop();
  }
}

/** The server's own replay line, if it logs one: `{ msg: '…replay…', events?, durationMs? }`. */
function replayLogLine(server: ServerHandle): { text: string; ms?: number; events?: number } | undefined {
  const line = server.output.find((l) => /replay/i.test(l));
  if (!line) return undefined;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const num = (re: RegExp): number | undefined => {
      const key = Object.keys(o).find((k) => re.test(k) && typeof o[k] === 'number');
      return key ? (o[key] as number) : undefined;
    };
    return { text: String(o.msg ?? line).slice(0, 200), ms: num(/ms$|duration|elapsed|took/i), events: num(/^events$|count|replayed/i) };
  } catch {
    return { text: line.slice(0, 200) };
  }
}

/** Start-up time is CPU-bound: do not time it while other processes are busy, if it can be helped. */
async function quieten(ctx: ScenarioContext): Promise<void> {
  const q = await waitForQuiet([], 0.3, ctx.cfg.quietWaitMs);
  if (q.other >= 0.3) ctx.notes.push(`replay: other processes used ${q.other.toFixed(2)} cores just before a timed start — WARNING: this figure is disturbed`);
}

export const replayScenario: Scenario = async (ctx) => {
  const { cfg } = ctx;
  if (!cfg.kinds.includes('roomlog')) return [];
  const dataDir = ctx.tmpDir('replay');
  const total = cfg.replayEvents;
  let seed: SeedResult;
  let baseMs: number;
  {
    const server = await startServer('roomlog', { dataDir, env: ENV, serverRoot: cfg.serverRoot });
    const template = await writeTemplate(server).finally(() => server.stop());
    await quieten(ctx);
    const again = await startServer('roomlog', { dataDir, env: ENV, serverRoot: cfg.serverRoot });
    baseMs = again.startupMs;
    await again.stop();
    try {
      seed = await seedEvents(cfg.serverRoot, dataDir, template, total, cfg.replayEventsPerRoom);
    } catch (e) {
      ctx.notes.push(`replay: direct SQLite seed failed (${e instanceof Error ? e.message : String(e)}); falling back to the API`);
      seed = await seedThroughApi(ctx, dataDir, total);
    }
  }
  ctx.log(`replay: seeded ${fmt(seed.events)} events in ${seed.rooms.length} rooms in ${fmt(seed.elapsedMs)} ms; empty-ish start took ${fmt(baseMs)} ms`);

  await quieten(ctx);
  const server = await startServer('roomlog', { dataDir, env: ENV, timeoutMs: 300_000, serverRoot: cfg.serverRoot });
  let logged: ReturnType<typeof replayLogLine>;
  try {
    logged = replayLogLine(server);
    ctx.log(`replay: spawn → listening ${fmt(server.startupMs)} ms${logged ? `; server says: ${logged.text}` : ''}`);
    const check = seed.rooms.at(-1);
    if (check) {
      const r = await gqlHttp<{ room: { headSeq: number } | null }>(server.url, 'query($id: ID!) { room(id: $id) { headSeq } }', { id: check.roomId }).catch((e: unknown) => ({ room: null, error: String(e) }));
      if (r.room?.headSeq !== check.events) {
        ctx.notes.push(`replay: after restart room ${check.roomId} reports headSeq ${JSON.stringify(r)} but ${check.events} events were written to its stream (replay incomplete?)`);
      }
    }
  } finally {
    await server.stop();
  }

  const rawRate = (seed.events * 1000) / server.startupMs;
  const netMs = server.startupMs - baseMs;
  const netRate = netMs > 0 ? (seed.events * 1000) / netMs : undefined;
  const logRate = logged?.ms ? ((logged.events ?? seed.events) * 1000) / logged.ms : undefined;
  ctx.notes.push(`replay: ${fmt(seed.events)} events in ${seed.rooms.length || '?'} rooms (${fmt(cfg.replayEventsPerRoom)} per room); spawn → listening ${fmt(server.startupMs)} ms, the same DATA_DIR before seeding ${fmt(baseMs)} ms${logged ? `; server log: "${logged.text}"` : '; the server logged no line mentioning replay'}.`);
  const scenario = `4. replay ${fmt(seed.events)} events at start`;
  const rows: Row[] = [
    { scenario, metric: 'events/s, spawn → listening', roomlog: fmt(rawRate), bare: '', ratio: '', target: `≥ ${fmt(TARGET_RATE)}`, result: verdict(rawRate >= TARGET_RATE) },
    { scenario, metric: `events/s, net of a ${fmt(baseMs / 1000, 2)} s empty start`, roomlog: fmt(netRate), bare: '', ratio: '', target: `≥ ${fmt(TARGET_RATE)}`, result: netRate === undefined ? '' : verdict(netRate >= TARGET_RATE) },
  ];
  if (logRate !== undefined) rows.push({ scenario, metric: "events/s, server's replay log", roomlog: fmt(logRate), bare: '', ratio: '', target: '', result: '' });
  return rows;
};
