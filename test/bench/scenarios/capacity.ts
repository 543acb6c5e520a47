/**
 * Capacity: the unit costs of the model in src/capacity/model.ts (docs/capacity.md), measured on
 * this machine, then the model checked against two measured points (one node, two nodes).
 *
 * Unit costs, on one node with Redis (limits on, set out of reach, so their Redis calls count):
 *  1. idle, nothing connected: the node's and Redis's cores, Redis commands/s;
 *  2. sends at a fixed rate with no subscriber: CPU per send (node, Redis), Redis commands per
 *     send (INFO commandstats deltas), events appended per send and the mean decide-and-append
 *     time (the node's /metrics);
 *  3. subscribers opened in two steps (a quarter, then all): RSS per connection, CPU and Redis
 *     commands per connection-second (idle), then a fixed message rate to them: CPU per delivery
 *     (the slope between the two steps) and per room message per node (the intercept).
 * Validation: a workload unlike the ones above (other subscriber count and rate), on a fresh
 * one-node cluster and a fresh two-node one (subscribers alternating, sends to node 1); the
 * model's per-node cores, Redis cores and Redis commands/s beside the measured ones.
 *
 * The machine is shared (two cores, other agents): every step notes the other processes' CPU, and
 * the figures are only as good as those notes say.
 */
import { randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import { clusterLoad, type UnitCosts } from '../../../src/capacity/model.js';
import { createSqliteEventStore } from '../../../src/eventStore/sqliteEventStore.js';
import { Procs, startRedis, withCpuOf, type Aux } from '../cluster.js';
import type { PublishResult } from '../load/protocol.js';
import { startLoadClient, type LoadClient } from '../loadProcess.js';
import { sleep } from '../load/stats.js';
import { startServer, type ServerHandle } from '../serverProcess.js';
import { fmt, type Row } from '../table.js';
import { troubleLines, type Scenario, type ScenarioContext } from './context.js';
import { openSubscribers } from './phases.js';

interface Sizes {
  subscribers: number;
  sendRate: number;
  deliveryRate: number;
  stepMs: number;
  validationSubscribers: number;
  validationRate: number;
  storeAppends: number;
}

const sizesFor = (quick: boolean): Sizes =>
  quick
    ? { subscribers: 400, sendRate: 50, deliveryRate: 10, stepMs: 4_000, validationSubscribers: 300, validationRate: 25, storeAppends: 500 }
    : { subscribers: 2_000, sendRate: 100, deliveryRate: 10, stepMs: 8_000, validationSubscribers: 1_000, validationRate: 25, storeAppends: 3_000 };

/** Node settings: limits on but out of reach (their Redis calls are part of a send's cost). */
const NODE_ENV = {
  RATE_LIMIT_MESSAGES: '1000000',
  RATE_LIMIT_WINDOW_MS: '1000',
  RATE_LIMIT_SESSIONS_PER_ADDRESS: '0',
  RATE_LIMIT_ROOMS_PER_ADDRESS: '0',
  MAX_SUBSCRIPTIONS_PER_CONNECTION: '100000',
  MAX_OPERATIONS_PER_CONNECTION: '100000',
};

interface Cluster {
  redis: Aux;
  redisClient: Redis;
  nodes: ServerHandle[];
  dataDir: string;
  load: LoadClient;
}

async function startCluster(ctx: ScenarioContext, count: number, label: string, procs: Procs): Promise<Cluster> {
  const redis = procs.add(await startRedis());
  const dataDir = ctx.tmpDir(label);
  const env = { ...NODE_ENV, REDIS_URL: redis.url, EVENT_STORE: 'sqlite', JWT_SECRET: randomBytes(24).toString('base64url') };
  const nodes: ServerHandle[] = [];
  // One at a time: the first creates the SQLite schema, and the first to start holds the projector lease.
  for (let n = 1; n <= count; n++) nodes.push(procs.add(await startServer('roomlog', { dataDir, env: { ...env, NODE_ID: `${label}-${n}` }, serverRoot: ctx.cfg.serverRoot })));
  const redisClient = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  redisClient.on('error', () => {});
  procs.add({ stop: async () => redisClient.disconnect() });
  const load = procs.add(startLoadClient());
  ctx.log(`${label}: ${count} node(s) ${nodes.map((n) => n.url).join(', ')}, Redis ${redis.url}`);
  return { redis, redisClient, nodes, dataDir, load };
}

/** Sum of `INFO commandstats` calls, and the count per command. */
async function redisCalls(redis: Redis): Promise<{ total: number; by: Record<string, number> }> {
  const text = await redis.info('commandstats');
  const by: Record<string, number> = {};
  for (const match of text.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) by[match[1]!] = Number(match[2]);
  // The bench's own INFO calls are not the cluster's.
  delete by.info;
  return { total: Object.values(by).reduce((s, n) => s + n, 0), by };
}

/** Sum of a counter (all label sets) on a node's /metrics. */
async function metricSum(node: ServerHandle, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

interface Step {
  seconds: number;
  cores: Record<string, number>;
  other: number;
  redisCalls: number;
  redisBy: Record<string, number>;
  publish?: PublishResult;
  /** Events appended (all nodes): the sends the cluster took in this window, whether or not their acks reached the load client in time. */
  appended: number;
  /** Events handed to subscribers, per node. */
  deliveries: number[];
  commandSeconds: number;
  commands: number;
}

/** One measured step: CPU by process, Redis command deltas, node counters, around `fn` (or an idle wait). */
async function step(ctx: ScenarioContext, label: string, c: Cluster, fn: (() => Promise<PublishResult>) | number): Promise<Step> {
  const pids: Record<string, number> = { redis: c.redis.pid, load: c.load.pid };
  c.nodes.forEach((n, i) => (pids[`node${i + 1}`] = n.pid));
  const total = async (name: string) => (await Promise.all(c.nodes.map((n) => metricSum(n, name)))).reduce((a, b) => a + b, 0);
  const counters = async () => ({
    calls: await redisCalls(c.redisClient),
    appended: await total('chat_events_appended_total'),
    deliveries: await Promise.all(c.nodes.map((n) => metricSum(n, 'chat_deliveries_total'))),
    commandSeconds: await total('chat_command_seconds_sum'),
    commands: await total('chat_command_seconds_count'),
  });
  let before = await counters();
  let started = performance.now();
  const { result, cores, other } = await withCpuOf(ctx, `capacity / ${label}`, pids, async () => {
    // Counted from here: withCpuOf may first have waited for other processes to quieten.
    before = await counters();
    started = performance.now();
    return typeof fn === 'number' ? (await sleep(fn), undefined) : fn();
  });
  const after = await counters();
  const by: Record<string, number> = {};
  for (const [name, n] of Object.entries(after.calls.by)) if (n - (before.calls.by[name] ?? 0) > 0) by[name] = n - (before.calls.by[name] ?? 0);
  return {
    seconds: (performance.now() - started) / 1000,
    cores,
    other,
    redisCalls: after.calls.total - before.calls.total,
    redisBy: by,
    publish: result,
    appended: after.appended - before.appended,
    deliveries: after.deliveries.map((d, i) => d - before.deliveries[i]!),
    commandSeconds: after.commandSeconds - before.commandSeconds,
    commands: after.commands - before.commands,
  };
}

const publish = (c: Cluster, key: string, phase: string, rate: number, ms: number) => () =>
  c.load.call<PublishResult>({ cmd: 'publish', key, phase, ratePerSecond: rate, durationMs: ms, drainMs: 10_000 }, ms + 60_000);

/** Idle for `ms`, measured: the seconds are the wait's, not the quiet-wait's. */
async function idle(ctx: ScenarioContext, label: string, c: Cluster, ms: number): Promise<Step> {
  const s = await step(ctx, label, c, ms);
  return { ...s, seconds: ms / 1000 };
}

function dbBytes(dir: string): number {
  let total = 0;
  for (const name of ['events.sqlite', 'events.sqlite-wal']) {
    try {
      total += statSync(`${dir}/${name}`).size;
    } catch {
      // not there (yet)
    }
  }
  return total;
}

async function measureUnitCosts(ctx: ScenarioContext, s: Sizes, procs: Procs): Promise<{ costs: UnitCosts; detail: string[] }> {
  const c = await startCluster(ctx, 1, 'cap1', procs);
  const node = c.nodes[0]!;
  const detail: string[] = [];
  await c.load.call({ cmd: 'prepareRoom', key: 'cap', url: node.url }, 30_000);
  await c.load.call({ cmd: 'publish', key: 'cap', phase: 'warmup', ratePerSecond: 50, durationMs: 2_000, drainMs: 5_000 }, 60_000);
  await sleep(2_000);
  const baseRssKb = node.rssKb();

  const idle0 = await idle(ctx, 'idle, nothing connected', c, s.stepMs);
  const bytesBefore = dbBytes(c.dataDir);
  const sends = await step(ctx, `sends @${s.sendRate}/s, no subscriber`, c, publish(c, 'cap', 'sends', s.sendRate, s.stepMs));
  const bytesAfter = dbBytes(c.dataDir);
  // The same at the delivery steps' rate: a send's cost depends on the rate (the projector batches
  // more events per page, fixed per-wake-up work is shared by more sends), so the delivery steps
  // subtract the send cost measured at their own rate.
  const slowSends = await step(ctx, `sends @${s.deliveryRate}/s, no subscriber`, c, publish(c, 'cap', 'slowsends', s.deliveryRate, s.stepMs));
  // Counted by the node (appended events), not by acknowledgements: on a busy machine some acks
  // arrive after the load client stopped waiting, but the work was done inside the window.
  const sent = sends.appended;
  const nodeIdle = idle0.cores.node1!;
  const redisIdle = idle0.cores.redis!;
  const cpuUsPerSend = (((sends.cores.node1! - nodeIdle) * sends.seconds) / sent) * 1e6;
  const redisUsPerSend = (((sends.cores.redis! - redisIdle) * sends.seconds) / sent) * 1e6;
  const redisIdleCallsPerS = idle0.redisCalls / idle0.seconds;
  const redisCommandsPerSend = (sends.redisCalls - redisIdleCallsPerS * sends.seconds) / sent;
  const slowSent = slowSends.appended;
  const cpuUsPerSlowSend = (((slowSends.cores.node1! - nodeIdle) * slowSends.seconds) / slowSent) * 1e6;
  const redisUsPerSlowSend = (((slowSends.cores.redis! - redisIdle) * slowSends.seconds) / slowSent) * 1e6;
  const redisCommandsPerSlowSend = (slowSends.redisCalls - redisIdleCallsPerS * slowSends.seconds) / slowSent;
  detail.push(
    `idle: node ${idle0.cores.node1!.toFixed(3)} cores, Redis ${redisIdle.toFixed(3)} cores, ${fmt(redisIdleCallsPerS, 1)} Redis commands/s (${JSON.stringify(idle0.redisBy)})`,
    `sends: ${sent} appended (${sends.publish!.published} acknowledged within the step) in ${sends.seconds.toFixed(1)} s, node ${sends.cores.node1!.toFixed(3)} cores, Redis ${sends.cores.redis!.toFixed(3)}; Redis commands ${JSON.stringify(sends.redisBy)}; ${sends.commands} commands run; decide+append mean ${fmt((sends.commandSeconds / Math.max(1, sends.commands)) * 1000, 2)} ms; SQLite files grew ${fmt((bytesAfter - bytesBefore) / sent, 0)} B/send (WAL reuse makes this a floor)`,
    `sends @${s.sendRate}/s: node ${fmt(cpuUsPerSend)} µs, Redis ${fmt(redisUsPerSend)} µs and ${fmt(redisCommandsPerSend, 2)} commands per send; @${s.deliveryRate}/s: node ${fmt(cpuUsPerSlowSend)} µs, Redis ${fmt(redisUsPerSlowSend)} µs and ${fmt(redisCommandsPerSlowSend, 2)} commands per send (${JSON.stringify(slowSends.redisBy)})`,
  );

  // Subscribers in two steps, each: RSS, idle CPU, deliveries at a fixed rate.
  await c.load.call({ cmd: 'createSessions', key: 'cap', url: node.url, count: s.subscribers }, 600_000);
  await sleep(3_000);
  const beforeOpenKb = node.rssKb();
  const levels = [Math.round(s.subscribers / 4), s.subscribers];
  const points: Array<{ subscribers: number; rssKb: number; idle: Step; deliver: Step }> = [];
  let open = 0;
  for (const level of levels) {
    await openSubscribers(ctx, `capacity / ${level} subscribers`, c.load, { key: 'cap', url: node.url, count: level - open });
    open = level;
    await sleep(3_000);
    const rssKb = node.rssKb();
    const idleStep = await idle(ctx, `idle, ${level} subscribers`, c, s.stepMs);
    const deliver = await step(ctx, `${level} subscribers @${s.deliveryRate} msg/s`, c, publish(c, 'cap', `deliver${level}`, s.deliveryRate, s.stepMs));
    points.push({ subscribers: level, rssKb, idle: idleStep, deliver });
    const p = deliver.publish!;
    detail.push(
      `${level} subscribers: RSS ${fmt(rssKb / 1024, 1)} MB, idle node ${idleStep.cores.node1!.toFixed(3)} cores (${fmt(idleStep.redisCalls / idleStep.seconds, 1)} Redis commands/s); @${s.deliveryRate} msg/s: node ${deliver.cores.node1!.toFixed(3)} cores, Redis ${deliver.cores.redis!.toFixed(3)}, ${deliver.appended} sends and ${fmt(deliver.deliveries[0])} deliveries counted by the node in ${deliver.seconds.toFixed(1)} s (load client: ${fmt(p.deliveriesPerSecond)} deliveries/s in the window), p99 ${fmt(p.latency.p99, 1)} ms, lost ${p.lost}`,
    );
  }
  await c.load.call({ cmd: 'closeAll', key: 'cap' }, 60_000);
  for (const l of troubleLines(node)) ctx.notes.push(`capacity / cap1 log: ${l}`);

  const [low, high] = points as [(typeof points)[0], (typeof points)[0]];
  // Per room message, beyond the send itself and the idle connections: c_recv + (deliveries per message) × c_delivery.
  const perMessage = (p: (typeof points)[0]) =>
    (((p.deliver.cores.node1! - p.idle.cores.node1!) * p.deliver.seconds) / p.deliver.appended) * 1e6 - cpuUsPerSlowSend;
  const fanout = (p: (typeof points)[0]) => p.deliver.deliveries[0]! / p.deliver.appended;
  const slope = (perMessage(high) - perMessage(low)) / (fanout(high) - fanout(low));
  const intercept = perMessage(low) - slope * fanout(low);
  const connSlope = (high.idle.cores.node1! - nodeIdle) / high.subscribers;
  const redisPerMessage = (p: (typeof points)[0]) =>
    (((p.deliver.cores.redis! - p.idle.cores.redis!) * p.deliver.seconds) / p.deliver.appended) * 1e6 - redisUsPerSlowSend;
  if (intercept < 0) ctx.notes.push(`capacity: the per-room-message intercept came out negative (${fmt(intercept, 1)} µs; noise), taken as 0`);
  const costs: UnitCosts = {
    measuredOn: `${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores shared, Node ${process.versions.node}, SQLite store, ${ctx.cfg.quick ? 'quick' : 'full'} sizes`,
    nodeIdleCores: nodeIdle,
    nodeBaseRssBytes: baseRssKb * 1024,
    cpuUsPerSend,
    cpuUsPerRoomMessagePerNode: Math.max(0, intercept),
    cpuUsPerDelivery: slope,
    cpuUsPerConnectionSecond: Math.max(0, connSlope * 1e6),
    // From just before the first subscribers to just after: no delivery in between (a delivery
    // step grows the heap by itself, so the second step's growth is an upper bound, noted below).
    bytesPerConnection: ((low.rssKb - beforeOpenKb) * 1024) / low.subscribers,
    redisCommandsPerSend,
    redisCommandsPerNodeSecond: redisIdleCallsPerS,
    redisCommandsPerConnectionSecond: Math.max(0, (high.idle.redisCalls / high.idle.seconds - redisIdleCallsPerS) / high.subscribers),
    redisUsPerSend,
    redisUsPerNodeMessage: Math.max(0, (redisPerMessage(low) + redisPerMessage(high)) / 2),
    redisIdleCoresPerNode: redisIdle,
    storeWritesPerSend: sends.appended / Math.max(1, sends.commands),
    storeAppendMs: await sqliteAppendMs(ctx, s.storeAppends),
  };
  detail.push(
    `RSS: ${fmt(beforeOpenKb / 1024, 1)} MB before any subscriber, ${fmt(low.rssKb / 1024, 1)} MB with ${low.subscribers} (${fmt((low.rssKb - beforeOpenKb) / low.subscribers, 1)} KB each), ${fmt(high.rssKb / 1024, 1)} MB with ${high.subscribers} after a delivery step (${fmt((high.rssKb - low.rssKb) / (high.subscribers - low.subscribers), 1)} KB each: an upper bound)`,
  );
  detail.push(`SQLite: ${s.storeAppends} one-event appends from one writer, each commit fsynced: ${fmt(costs.storeAppendMs, 3)} ms each (${fmt(1000 / costs.storeAppendMs)} appends/s at most)`);
  return { costs, detail };
}

/**
 * The SQLite store's own limit: appends of one event each (what a send makes), one after another
 * from one writer, every commit fsynced. SQLite takes one writer at a time across processes, so
 * this is the most appends/s one SQLite file takes, whatever the number of nodes.
 */
async function sqliteAppendMs(ctx: ScenarioContext, count: number): Promise<number> {
  const store = createSqliteEventStore({ file: `${ctx.tmpDir('capacity-store')}/events.sqlite` });
  try {
    const body = { roomId: 'r', body: 'x'.repeat(100), clientMessageId: '' };
    for (let i = 0; i < 50; i++) await store.append(`room-warm`, [{ id: randomBytes(12).toString('hex'), type: 'MessagePosted', data: body }], { expectedRevision: 'any' });
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      await store.append(`room-${i % 100}`, [{ id: randomBytes(12).toString('hex'), type: 'MessagePosted', data: { ...body, clientMessageId: String(i) } }], { expectedRevision: 'any' });
    }
    return (performance.now() - started) / count;
  } finally {
    await store.close();
  }
}

interface Validation {
  nodes: number;
  measured: { nodeCores: number[]; redisCores: number; redisCommandsPerS: number; deliveriesPerS: number; other: number };
  predicted: { nodeCores: number[]; nodeCoresTotal: number; redisCores: number; redisCommandsPerS: number; deliveriesPerS: number };
}

/** The validation workload on a fresh cluster of `count` nodes: subscribers alternate over the nodes, sends go to node 1. */
async function validate(ctx: ScenarioContext, s: Sizes, costs: UnitCosts, count: number, procs: Procs): Promise<Validation> {
  const c = await startCluster(ctx, count, `val${count}`, procs);
  try {
    const urls = c.nodes.map((n) => n.url);
    await c.load.call({ cmd: 'prepareRoom', key: 'v', url: urls[0]! }, 30_000);
    await c.load.call({ cmd: 'createSessions', key: 'v', url: urls[0]!, count: s.validationSubscribers }, 600_000);
    await openSubscribers(ctx, `capacity / validation, ${count} node(s)`, c.load, { key: 'v', url: urls[0]!, urls, count: s.validationSubscribers });
    await c.load.call({ cmd: 'publish', key: 'v', phase: 'warmup', ratePerSecond: s.validationRate, durationMs: 2_000, drainMs: 5_000 }, 60_000);
    await sleep(2_000);
    const m = await step(ctx, `validation, ${count} node(s), ${s.validationSubscribers} subscribers @${s.validationRate} msg/s`, c, publish(c, 'v', 'validate', s.validationRate, s.stepMs));
    const p = m.publish!;
    ctx.notes.push(
      `capacity / validation ${count} node(s): ${m.appended} sends (${p.published} acknowledged within the step), deliveries by node ${JSON.stringify(m.deliveries)} in ${m.seconds.toFixed(1)} s; Redis commands ${JSON.stringify(m.redisBy)}`,
    );
    // The model's workload: one room, its subscribers spread over the nodes; every send on node 1.
    // The model at the rates the nodes actually ran (counted by them over the step), so what is
    // checked is the cost model, not whether a starved node kept up with the offered rate.
    const rate = m.appended / m.seconds;
    const deliveriesPerS = m.deliveries.reduce((a, b) => a + b, 0) / m.seconds;
    // Per node as the model's terms, with every send on node 1 (the model spreads them; the sum is the same).
    const predictedNode = c.nodes.map((_, i) => {
      const subs = s.validationSubscribers / count;
      const sends = i === 0 ? rate : 0;
      return costs.nodeIdleCores + (subs * costs.cpuUsPerConnectionSecond + sends * costs.cpuUsPerSend + rate * costs.cpuUsPerRoomMessagePerNode + (m.deliveries[i]! / m.seconds) * costs.cpuUsPerDelivery) / 1e6;
    });
    // The model's own formulas (users = subscribers, one room), scaled to the deliveries that were made.
    const model = clusterLoad(costs, { users: s.validationSubscribers, rooms: 1, msgsPerS: rate }, count);
    const modelCores = (model.perNode.cores - costs.nodeIdleCores) * count - (model.deliveriesPerS - deliveriesPerS) * costs.cpuUsPerDelivery / 1e6 + costs.nodeIdleCores * count;
    await c.load.call({ cmd: 'closeAll', key: 'v' }, 60_000);
    for (const [i, n] of c.nodes.entries()) for (const l of troubleLines(n)) ctx.notes.push(`capacity / val${count} node ${i + 1} log: ${l}`);
    return {
      nodes: count,
      measured: {
        nodeCores: c.nodes.map((_, i) => m.cores[`node${i + 1}`]!),
        redisCores: m.cores.redis!,
        redisCommandsPerS: m.redisCalls / m.seconds,
        deliveriesPerS,
        other: m.other,
      },
      predicted: { nodeCores: predictedNode, nodeCoresTotal: modelCores, redisCores: model.redis.cores, redisCommandsPerS: model.redis.commandsPerS, deliveriesPerS: model.deliveriesPerS },
    };
  } finally {
    for (const n of c.nodes) await n.stop().catch(() => undefined);
  }
}

export const capacityScenario: Scenario = async (ctx) => {
  const s = sizesFor(ctx.cfg.quick);
  const procs = new Procs();
  const rows: Row[] = [];
  try {
    const { costs, detail } = await measureUnitCosts(ctx, s, procs);
    await procs.stopAll();
    for (const d of detail) ctx.notes.push(`capacity / unit costs: ${d}`);
    ctx.notes.push(`capacity / unit costs (JSON for src/capacity/measured.ts or --costs): ${JSON.stringify(costs)}`);
    if (process.env.CAPACITY_COSTS_OUT) writeFileSync(process.env.CAPACITY_COSTS_OUT, `${JSON.stringify(costs, null, 2)}\n`);
    const unit = '9a. capacity unit costs (1 node + Redis)';
    const add = (metric: string, value: string) => rows.push({ scenario: unit, metric, roomlog: value, bare: '', ratio: '', target: '', result: '' });
    add('node CPU µs per send', fmt(costs.cpuUsPerSend, 0));
    add('node CPU µs per delivery', fmt(costs.cpuUsPerDelivery, 2));
    add('node CPU µs per room message per node', fmt(costs.cpuUsPerRoomMessagePerNode, 0));
    add('node CPU µs per connection-second (idle)', fmt(costs.cpuUsPerConnectionSecond, 2));
    add('KB per idle subscribed connection', fmt(costs.bytesPerConnection / 1024, 1));
    add('Redis commands per send', fmt(costs.redisCommandsPerSend, 2));
    add('Redis CPU µs per send', fmt(costs.redisUsPerSend, 1));
    add('event-store appends per send / ms each', `${fmt(costs.storeWritesPerSend, 2)} / ${fmt(costs.storeAppendMs, 2)}`);

    for (const count of [1, 2]) {
      const v = await validate(ctx, s, costs, count, procs);
      await procs.stopAll();
      const name = `9b. model vs measured, ${count} node${count > 1 ? 's' : ''}, ${fmt(s.validationSubscribers)} subs @${s.validationRate} msg/s`;
      const pct = (measured: number, predicted: number) => (measured > 0 ? `${fmt((100 * (predicted - measured)) / measured, 0)} %` : '—');
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      rows.push(
        { scenario: name, metric: 'node cores (each)', roomlog: v.measured.nodeCores.map((x) => x.toFixed(2)).join(' / '), bare: v.predicted.nodeCores.map((x) => x.toFixed(2)).join(' / '), ratio: pct(sum(v.measured.nodeCores), v.predicted.nodeCoresTotal), target: '', result: '' },
        { scenario: name, metric: 'Redis cores', roomlog: v.measured.redisCores.toFixed(3), bare: v.predicted.redisCores.toFixed(3), ratio: pct(v.measured.redisCores, v.predicted.redisCores), target: '', result: '' },
        { scenario: name, metric: 'Redis commands/s', roomlog: fmt(v.measured.redisCommandsPerS), bare: fmt(v.predicted.redisCommandsPerS), ratio: pct(v.measured.redisCommandsPerS, v.predicted.redisCommandsPerS), target: '', result: '' },
        { scenario: name, metric: 'deliveries/s', roomlog: fmt(v.measured.deliveriesPerS), bare: fmt(v.predicted.deliveriesPerS), ratio: pct(v.measured.deliveriesPerS, v.predicted.deliveriesPerS), target: '', result: '' },
      );
      ctx.notes.push(`capacity / validation ${count} node(s): ${JSON.stringify(v)}${v.measured.other > 0.3 ? ' — other processes were busy: disturbed' : ''}`);
    }
    ctx.notes.push(
      'capacity: rows 9b put the MEASURED figure in the "roomlog" column and the MODEL\'s prediction in the "bare ws" column; the ratio column is (model − measured) / measured. Unit costs come from one node; the validation workloads (other subscriber count and rate, one and two fresh nodes) were not used to fit them.',
    );
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    ctx.notes.push(`capacity: FAILED: ${msg.split('\n').slice(0, 12).join('\n    ')}`);
    ctx.log(`capacity: failed: ${msg.split('\n')[0]}`);
  } finally {
    await procs.stopAll();
  }
  return rows;
};
