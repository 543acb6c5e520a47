/**
 * Nodes leaving under a balancer, with real processes and a room in use: 30 followers connected
 * through the balancer (10 per node) while messages are sent through it.
 *   - kill -9 of a node: its followers come back through the balancer on the other nodes and
 *     resume with afterSeq; nothing lost, duplicated or reordered.
 *   - SIGTERM of a node: its /readyz turns 503 for SHUTDOWN_GRACE_MS, the balancer takes it out
 *     within 2 s and sends it no new connection; then it closes its sockets with 1012 and those
 *     followers resume elsewhere, nothing lost.
 */
import { afterEach, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { eventually, pool, sleep } from '../support/gql.js';
import { killAllNodes, type NodeHandle } from '../support/nodeProcess.js';
import { stopAllRedis } from '../support/redisServer.js';
import { nodeId, problemLines, startCluster, waitForExit, type Cluster } from '../support/cluster.js';
import { backendOf, killAllBalancers, startBalancer, viaBalancer, type BalancerHandle } from '../support/balancerProcess.js';
import { openSocket } from './lightClients.js';
import { expectNothingLost, followersThrough, sendPaced, trafficFlowing } from './roomTraffic.js';

const FOLLOWERS = 30;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await killAllBalancers();
  await killAllNodes();
  await stopAllRedis();
});

async function nodeConnections(node: NodeHandle): Promise<number> {
  const response = await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return ((await response.json()) as { connections: number }).connections;
}

/** Waits until the given nodes report `total` open sockets between them; returns the counts. */
async function settled(nodes: NodeHandle[], total: number): Promise<number[]> {
  let counts: number[] = [];
  await eventually(
    async () => {
      counts = await Promise.all(nodes.map(nodeConnections));
      return counts.reduce((a, b) => a + b, 0) === total;
    },
    15_000,
    `${total} connections on ${nodes.map(nodeId).join(', ')}`,
    100,
  ).catch((error: Error) => {
    throw new Error(`${error.message} (last ${counts.join('/')})`);
  });
  return counts;
}

async function clusterBehindBalancer(env: Record<string, string> = {}): Promise<{ cluster: Cluster; balancer: BalancerHandle }> {
  const cluster = await startCluster({ nodes: 3, name: 'fo', env: { RATE_LIMIT_MESSAGES: '0', ...env } });
  const balancer = await startBalancer({ env: { BACKENDS: cluster.nodes.map((n) => n.url).join(',') } });
  await balancer.waitForBackends((list) => list.length === 3 && list.every((b) => b.ready), 10_000, 'all 3 ready');
  return { cluster, balancer };
}

it('a node killed (-9): its clients come back through the balancer on the other nodes, resume with afterSeq, nothing lost', { timeout: 120_000 }, async () => {
  const { cluster, balancer } = await clusterBehindBalancer();
  const target = () => viaBalancer(balancer);
  const traffic = await followersThrough(target, FOLLOWERS);
  expect(await settled(cluster.nodes, FOLLOWERS)).toEqual([10, 10, 10]);

  const victim = cluster.nodes[1]!;
  const survivors = [cluster.nodes[0]!, cluster.nodes[2]!];
  const sending = sendPaced(traffic, target, 120, 50);
  await trafficFlowing(traffic, 20);
  const killedAt = Date.now();
  await victim.kill();
  const acked = await sending;

  await expectNothingLost(traffic, target, acked);
  // Exactly the victim's 10 followers lost their socket, and each resumed after the seq it held.
  const moved = traffic.followers.filter((f) => f.closes.length > 0);
  expect(moved).toHaveLength(10);
  for (const follower of moved) {
    expect(follower.closes.map((c) => c.code)).toEqual([1006]);
    expect(follower.subscriptions).toHaveLength(2);
    expect(follower.subscriptions[1]!.afterSeq).toBeGreaterThan(2);
    expect(follower.subscriptions[1]!.at - killedAt).toBeLessThan(5_000);
  }
  // …on the survivors: all 30 are there now.
  const after = await settled(survivors, FOLLOWERS);
  expect(Math.min(...after)).toBeGreaterThanOrEqual(13);
  const list = await balancer.backends();
  expect(backendOf(list, victim)).toMatchObject({ ready: false, open: 0 });
  const retried = acked.filter((a) => a.attempts.length > 1);
  console.log(
    `node kill: ${retried.length} of ${acked.length} sends needed a retry (${[...new Set(retried.flatMap((a) => a.attempts.slice(0, -1).map((t) => t.outcome)))].join('; ')}); survivors now ${after.join('/')}; resumed ${moved.length} in ${Math.max(...moved.map((f) => f.subscriptions[1]!.at - killedAt))} ms at most`,
  );
  expect(problemLines(survivors).filter((line) => /\[(50|60)\]/.test(line))).toEqual([]);
});

it('a draining node (SIGTERM) gets no new connection after 2 s, then closes with 1012 and its clients resume elsewhere', { timeout: 120_000 }, async () => {
  const GRACE = 5_000;
  const { cluster, balancer } = await clusterBehindBalancer({ SHUTDOWN_GRACE_MS: String(GRACE) });
  const target = () => viaBalancer(balancer);
  const traffic = await followersThrough(target, FOLLOWERS);
  expect(await settled(cluster.nodes, FOLLOWERS)).toEqual([10, 10, 10]);

  const draining = cluster.nodes[2]!;
  const others = [cluster.nodes[0]!, cluster.nodes[1]!];
  const sending = sendPaced(traffic, target, 150, 60);
  await trafficFlowing(traffic, 15);

  const termAt = Date.now();
  const exit = waitForExit(draining, 20_000);
  draining.process.kill('SIGTERM');
  // While it drains, new clients keep arriving (one every 50 ms).
  const early: Array<{ at: number; status: number | null }> = [];
  const arriving = (async () => {
    while (Date.now() - termAt < 2_000) {
      const opened = await openSocket(balancer.wsUrl);
      early.push({ at: Date.now() - termAt, status: opened.ok ? 101 : opened.status });
      if (opened.ok) sockets.push(opened.ws);
      // Part of the scenario: the arrival rate during the drain.
      await sleep(50);
    }
  })();
  await balancer.waitForBackends((list) => backendOf(list, draining)?.ready === false, 2_000, 'draining node out of rotation within 2 s');
  const outAfterMs = Date.now() - termAt;
  await arriving;

  // From here on (2 s after SIGTERM, grace not over), the draining node gets nothing new.
  const beforeOnDraining = await nodeConnections(draining);
  const beforeOnOthers = await Promise.all(others.map(nodeConnections));
  const fresh = await pool(30, 10, () => openSocket(balancer.wsUrl));
  expect(fresh.filter((r) => !r.ok)).toEqual([]);
  for (const r of fresh) if (r.ok) sockets.push(r.ws);
  expect(Date.now() - termAt, 'still within the grace period').toBeLessThan(GRACE);
  expect(await nodeConnections(draining), 'no new connection on the draining node').toBe(beforeOnDraining);
  const afterOnOthers = await Promise.all(others.map(nodeConnections));
  expect(afterOnOthers[0]! + afterOnOthers[1]! - beforeOnOthers[0]! - beforeOnOthers[1]!).toBe(30);

  // The grace ends: sockets closed with 1012, the process exits cleanly.
  const exited = await exit;
  expect(exited.code).toBe(0);
  const acked = await sending;
  await expectNothingLost(traffic, target, acked);
  const moved = traffic.followers.filter((f) => f.closes.length > 0);
  expect(moved).toHaveLength(10);
  for (const follower of moved) {
    expect(follower.closes.map((c) => c.code)).toEqual([1012]);
    expect(follower.closes[0]!.at - termAt).toBeGreaterThanOrEqual(GRACE - 100);
    expect(follower.subscriptions[1]!.afterSeq).toBeGreaterThan(2);
  }
  const early503 = early.filter((e) => e.status !== 101);
  console.log(
    `drain: out of rotation ${outAfterMs} ms after SIGTERM; of ${early.length} connections opened in the first 2 s, ${early503.length} were refused (${early503.map((e) => `${e.status}@${e.at}ms`).join(', ')}); exit after ${exited.ms} ms`,
  );
  // Every refusal came from the node's own 503 before the balancer's next health check.
  for (const e of early503) expect(e).toMatchObject({ status: 503 });
  expect(early503.every((e) => e.at <= outAfterMs + 250)).toBe(true);
  await settled(others, FOLLOWERS + 30 + early.length - early503.length);
});
