/**
 * The cluster as one server through its balancer (issue 12): two nodes on one event store, Redis,
 * the balancer, and clients that only ever talk to the balancer — followers resuming through it,
 * and a steady load of senders that try each send ONCE (no client retry), so every failure is a
 * client-visible error.
 *   - an oversized POST, 50 times: every one answered (413);
 *   - a Redis restart: 0 client-visible errors, and a second balancer that discovers the nodes in
 *     that Redis keeps both in rotation although their announcements vanish with it;
 *   - a SIGTERM of each node in turn (each restarted on its port): 0 client-visible errors;
 *   - a kill -9 under steady load: only requests in flight on the dead node at that moment may
 *     fail (each failure must have started before the kill; they are counted and printed).
 * Afterwards every follower has every event once, in order, and every acknowledged send is in
 * the log once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pool, readLog, roomHead, sleep } from '../support/gql.js';
import { freshDataDir, killAllNodes, startNode, type NodeHandle } from '../support/nodeProcess.js';
import { freePort, startRedis, stopAllRedis, type RedisServer } from '../support/redisServer.js';
import { accountDelivery, ranges, sendOnce, waitForExit } from '../support/cluster.js';
import { backendOf, killAllBalancers, startBalancer, viaBalancer, type BalancerHandle } from '../support/balancerProcess.js';
import { waitFor } from '../support/signals.js';
import { followersThrough, trafficFlowing, type RoomTraffic } from '../balancer/roomTraffic.js';

const SENDERS = 4;
const GRACE_MS = 1_500;

let redis: RedisServer;
let balancer: BalancerHandle;
/** Finds the nodes through their announcements in Redis (REDIS_URL) instead of BACKENDS. */
let discovering: BalancerHandle;
let traffic: RoomTraffic;
const nodes: NodeHandle[] = [];
const ports: number[] = [];
let env: Record<string, string>;
let dataDir: string;
let started = 0;
/** Every send of the steady loads, acknowledged or not. */
const sends: Send[] = [];

interface Send {
  clientMessageId: string;
  startedAt: number;
  endedAt: number;
  outcome: string;
}

afterAll(async () => {
  for (const follower of traffic?.followers ?? []) follower.close();
  await killAllBalancers();
  await killAllNodes();
  await stopAllRedis();
});

/** Starts (or restarts) node `slot` on its own port, so the balancer's static list stays right. */
async function startSlot(slot: number): Promise<NodeHandle> {
  const node = await startNode({ env: { ...env, NODE_ID: `tb${slot}-${++started}`, PORT: String(ports[slot]) }, dataDir });
  nodes[slot] = node;
  return node;
}

const target = () => viaBalancer(balancer);

/**
 * SENDERS clients sending one message after another through the balancer, each send tried once.
 * `stop()` ends the load and resolves with its sends.
 */
function steadyLoad(label: string): { stop: () => Promise<Send[]> } {
  let running = true;
  const mine: Send[] = [];
  const loops = Array.from({ length: SENDERS }, async () => {
    while (running) {
      const clientMessageId = randomUUID();
      const startedAt = Date.now();
      const result = await sendOnce(target(), traffic.owner.token, traffic.roomId, `${label} ${mine.length}`, clientMessageId);
      mine.push({ clientMessageId, startedAt, endedAt: Date.now(), outcome: result.message ? 'ok' : result.attempt.outcome });
      // Part of the scenario: the pace of the load (about 40 sends a second in all).
      await sleep(100);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      sends.push(...mine);
      return mine;
    },
  };
}

const failures = (list: Send[]) => list.filter((s) => s.outcome !== 'ok');
const describeFailures = (list: Send[]) => failures(list).map((s) => s.outcome).join('; ') || 'none';

beforeAll(async () => {
  redis = await startRedis();
  dataDir = freshDataDir();
  env = { REDIS_URL: redis.url, JWT_SECRET: randomUUID(), RATE_LIMIT_MESSAGES: '0', SHUTDOWN_GRACE_MS: String(GRACE_MS), LOG_LEVEL: 'info' };
  ports.push(await freePort(), await freePort());
  // The first node creates the SQLite file alone.
  await startSlot(0);
  await startSlot(1);
  balancer = await startBalancer({ env: { BACKENDS: nodes.map((n) => n.url).join(','), HEALTH_INTERVAL_MS: '500' } });
  await balancer.waitForBackends((list) => list.length === 2 && list.every((b) => b.ready), 10_000, 'both nodes ready');
  discovering = await startBalancer({ env: { REDIS_URL: redis.url, HEALTH_INTERVAL_MS: '500', WORKERS: '1' } });
  await discovering.waitForBackends((list) => list.length === 2 && list.every((b) => b.ready), 10_000, 'both nodes discovered');
  traffic = await followersThrough(target, 6);
}, 90_000);

it('an oversized POST through the balancer, 50 times: every one answered', { timeout: 60_000 }, async () => {
  const body = Buffer.alloc(1024 * 1024, 0x20);
  const results = await pool(50, 5, async () => {
    try {
      const response = await fetch(`${balancer.url}/graphql`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(8_000) });
      await response.text();
      return response.status;
    } catch (error) {
      return (error as Error).name;
    }
  });
  console.log(`oversized POST: ${results.filter((r) => r === 413).length} of 50 answered 413`);
  expect(results.filter((r) => r !== 413)).toEqual([]);
});

it('a Redis restart under steady load: 0 client-visible errors', { timeout: 60_000 }, async () => {
  const load = steadyLoad('redis');
  await trafficFlowing(traffic, 10);
  await redis.kill();
  const downAt = Date.now();
  // Meanwhile, the discovering balancer's view, and a query through it, every 200 ms.
  const seen: string[] = [];
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const list = await discovering.backends().catch(() => []);
      const query = await fetch(`${discovering.url}/graphql?query=%7B__typename%7D`).then((r) => r.status, (e: Error) => e.name);
      seen.push(`${list.filter((b) => b.ready).length}/${list.length} ready, query ${query}`);
      // Part of the scenario: sampling through the outage.
      await sleep(200);
    }
  })();
  // Part of the scenario: Redis stays down for 2 s.
  await sleep(2_000);
  await redis.restart();
  const readyz = async (node: NodeHandle) => ((await (await fetch(`${node.url}/readyz`)).json()) as { redis?: string }).redis;
  await waitFor(async () => (await Promise.all(nodes.map(readyz))).every((r) => r === 'ok'), 15_000, 'both nodes see Redis again');
  await trafficFlowing(traffic, 10);
  // Two discovery rounds after Redis came back empty: the nodes have announced themselves again.
  await sleep(1_200);
  watching = false;
  await watch;
  const done = await load.stop();
  console.log(`Redis restart (down ${Date.now() - downAt} ms until both nodes saw it back): ${done.length} sends, client-visible errors: ${describeFailures(done)}`);
  expect(failures(done)).toEqual([]);
  expect([...new Set(seen)], 'the discovering balancer kept both nodes and served throughout').toEqual(['2/2 ready, query 200']);
  expect(await balancer.metrics()).toMatch(/^balancer_panic 0$/m);
});

it('a SIGTERM of each node in turn under steady load: 0 client-visible errors', { timeout: 90_000 }, async () => {
  for (const slot of [0, 1]) {
    const load = steadyLoad(`sigterm ${slot}`);
    await trafficFlowing(traffic, 10);
    const leaving = nodes[slot]!;
    const exit = waitForExit(leaving, 20_000);
    leaving.process.kill('SIGTERM');
    expect((await exit).code).toBe(0);
    const back = await startSlot(slot);
    await balancer.waitForBackends((list) => backendOf(list, back)?.ready === true, 10_000, `node ${slot} back in rotation`);
    await trafficFlowing(traffic, 10);
    const done = await load.stop();
    console.log(`SIGTERM of node ${slot}: ${done.length} sends, client-visible errors: ${describeFailures(done)}`);
    expect(failures(done)).toEqual([]);
  }
});

it('a kill -9 under steady load: only requests in flight on the dead node fail', { timeout: 60_000 }, async () => {
  const load = steadyLoad('kill');
  await trafficFlowing(traffic, 10);
  const killedAt = Date.now();
  await nodes[1]!.kill();
  // SIGKILL takes effect when the kernel next schedules the process: it died between the signal
  // and the moment its exit was seen.
  const deadAt = Date.now();
  await trafficFlowing(traffic, 20);
  const done = await load.stop();
  const failed = failures(done);
  const inFlight = done.filter((s) => s.startedAt <= deadAt && s.endedAt >= killedAt);
  console.log(
    `kill -9 (exit seen ${deadAt - killedAt} ms after the signal): ${done.length} sends; ${inFlight.length} in flight then (on either node); ` +
      `${failed.length} failed: ${describeFailures(done)}`,
  );
  // Each failure was in flight when the node died; none started after.
  for (const send of failed) expect(send.startedAt, `${send.outcome} started after the node was dead`).toBeLessThanOrEqual(deadAt);
  expect(failed.length).toBeLessThanOrEqual(inFlight.length);
});

it('afterwards: every follower has every event once, in order; every acknowledged send is in the log once', { timeout: 60_000 }, async () => {
  const head = await roomHead(balancer.url, traffic.owner.token, traffic.roomId);
  await Promise.all(traffic.followers.map((f) => f.waitForSeq(head, 30_000)));
  for (const [index, follower] of traffic.followers.entries()) {
    const delivery = accountDelivery(follower.seqs, 0, head);
    expect(delivery.missing, `lost by follower ${index}: ${ranges(delivery.missing)}`).toEqual([]);
    expect(delivery.duplicates, `duplicated to follower ${index}`).toEqual([]);
    expect(delivery.misordered, `out of order for follower ${index}`).toEqual([]);
  }
  const log = await readLog(balancer.url, traffic.owner.token, traffic.roomId);
  const inLog = log.filter((e) => e.__typename === 'MessagePosted').map((e) => e.message!.clientMessageId);
  expect(new Set(inLog).size, 'no send twice in the log').toBe(inLog.length);
  const logged = new Set(inLog);
  const acked = sends.filter((s) => s.outcome === 'ok');
  expect(acked.filter((s) => !logged.has(s.clientMessageId)), 'acknowledged but not in the log').toEqual([]);
  console.log(`through the balancer: ${sends.length} sends in all, ${acked.length} acknowledged, head ${head}; followers resumed ${traffic.followers.map((f) => f.subscriptions.length - 1).join('/')} times`);
});
