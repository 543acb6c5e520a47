/**
 * Least connections, measured on the nodes themselves (their /readyz `connections`): 1,000
 * WebSockets through one balancer over 3 nodes, with churn (random ones closed while new ones
 * open), end within max/min ≤ 1.1 per node. And with two balancers in front of the same nodes plus
 * clients connected to a node directly, the nodes' reported counts keep the total even — which
 * each balancer's own count alone could not.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { eventually, pool, sleep } from '../support/gql.js';
import { killAllNodes, type NodeHandle } from '../support/nodeProcess.js';
import { stopAllRedis } from '../support/redisServer.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { backendOf, killAllBalancers, startBalancer, type BalancerHandle } from '../support/balancerProcess.js';
import { closeSocket, mustOpen } from './lightClients.js';

let cluster: Cluster;
const open = new Set<WebSocket>();

// Per-IP limits raised: every client here is 127.0.0.1.
const UNLIMITED = { MAX_CONNECTIONS_PER_IP: '10000', NEW_CONNECTIONS_PER_SECOND_PER_IP: '100000', NEW_CONNECTIONS_BURST_PER_IP: '100000' };

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, name: 'fair', env: { RATE_LIMIT_MESSAGES: '0' } });
});
afterAll(async () => {
  for (const ws of open) ws.terminate();
  await killAllBalancers();
  await killAllNodes();
  await stopAllRedis();
});

async function nodeConnections(node: NodeHandle): Promise<number> {
  const response = await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return ((await response.json()) as { connections: number }).connections;
}

/** Waits until the nodes together report `total` open sockets; returns the per-node counts. */
async function settledCounts(total: number): Promise<number[]> {
  let counts: number[] = [];
  await eventually(
    async () => {
      counts = await Promise.all(cluster.nodes.map(nodeConnections));
      return counts.reduce((a, b) => a + b, 0) === total;
    },
    15_000,
    `nodes reporting ${total} connections in all (last: ${counts.join('/')})`,
    100,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last counts ${counts.join('/')}`);
  });
  return counts;
}

const ratio = (counts: number[]) => Math.max(...counts) / Math.min(...counts);

async function openThrough(balancer: BalancerHandle | string): Promise<WebSocket> {
  const ws = await mustOpen(typeof balancer === 'string' ? balancer : balancer.wsUrl, { timeoutMs: 20_000 });
  open.add(ws);
  return ws;
}

async function closeOne(ws: WebSocket): Promise<void> {
  open.delete(ws);
  await closeSocket(ws);
}

async function closeAll(): Promise<void> {
  await pool(open.size, 100, async () => {
    const ws = open.values().next().value;
    if (ws) await closeOne(ws);
  });
}

it('1,000 connections over 3 nodes with churn: max/min per node ≤ 1.1', { timeout: 180_000 }, async () => {
  const balancer = await startBalancer({ env: { BACKENDS: cluster.nodes.map((n) => n.url).join(','), ...UNLIMITED } });
  await balancer.waitForBackends((list) => list.length === 3 && list.every((b) => b.ready), 10_000, 'all 3 ready');

  const clients: WebSocket[] = await pool(1_000, 50, () => openThrough(balancer));
  const initial = await settledCounts(1_000);

  // Churn: 10 rounds, each closing 100 random clients while opening 100 new ones, at random
  // moments within ~400 ms, so closes and opens interleave with each other and with health checks.
  const churnStarted = Date.now();
  for (let round = 0; round < 10; round++) {
    const victims = new Set<number>();
    while (victims.size < 100) victims.add(Math.floor(Math.random() * clients.length));
    const closing = [...victims].map(async (index) => {
      await sleep(Math.random() * 400);
      await closeOne(clients[index]!);
    });
    const opening = Array.from({ length: 100 }, async () => {
      await sleep(Math.random() * 400);
      return openThrough(balancer);
    });
    const [fresh] = await Promise.all([Promise.all(opening), Promise.all(closing)]);
    const survivors = clients.filter((_, index) => !victims.has(index));
    clients.splice(0, clients.length, ...survivors, ...fresh);
  }
  const churnMs = Date.now() - churnStarted;
  expect(clients).toHaveLength(1_000);

  const counts = await settledCounts(1_000);
  const seenByBalancer = await balancer.backends();
  console.log(`fairness: initial ${initial.join('/')}, after 1,000 churned in ${churnMs} ms: ${counts.join('/')} (max/min ${ratio(counts).toFixed(3)}); balancer's own count ${cluster.nodes.map((n) => backendOf(seenByBalancer, n)?.open).join('/')}`);
  expect(ratio(initial), `initial ${initial.join('/')}`).toBeLessThanOrEqual(1.1);
  expect(ratio(counts), `after churn ${counts.join('/')}`).toBeLessThanOrEqual(1.1);
  // With one balancer its own count is the truth.
  expect(cluster.nodes.map((n) => backendOf(seenByBalancer, n)?.open)).toEqual(counts);
  expect(await balancer.metrics()).toMatch(/^balancer_upgrades_total 2000$/m);

  await closeAll();
  await settledCounts(0);
  await balancer.stop();
});

it('two balancers and direct clients on the same nodes: the counts the nodes report keep the total even', { timeout: 180_000 }, async () => {
  const backends = cluster.nodes.map((n) => n.url).join(',');
  const env = { BACKENDS: backends, HEALTH_INTERVAL_MS: '250', ...UNLIMITED };
  const [a, b] = await Promise.all([startBalancer({ env }), startBalancer({ env })]);
  for (const balancer of [a!, b!]) await balancer.waitForBackends((list) => list.length === 3 && list.every((x) => x.ready), 10_000, 'all 3 ready');

  // 250 clients go to the first node directly (as if through some other path).
  await pool(250, 50, () => openThrough(cluster.nodes[0]!.wsUrl));
  await settledCounts(250);
  // Both balancers have seen it in a health check: two HEALTH_INTERVAL_MS (250) and a margin. A
  // bound, not a signal: a balancer shows no one the node-reported counts it has taken in.
  await sleep(600);

  // 750 more through the two balancers alternately, ~250 per second.
  await pool(750, 10, async (i) => {
    // Part of the scenario: the arrival rate, against the health-check interval.
    await sleep(40);
    return openThrough(i % 2 === 0 ? a! : b!);
  });
  const counts = await settledCounts(1_000);
  const viewA = await a!.backends();
  const viewB = await b!.backends();
  console.log(
    `two balancers: nodes ${counts.join('/')} (max/min ${ratio(counts).toFixed(3)}); via A ${cluster.nodes.map((n) => backendOf(viewA, n)?.open).join('/')}, via B ${cluster.nodes.map((n) => backendOf(viewB, n)?.open).join('/')}`,
  );
  // Each balancer alone would have spread its 375 evenly (250+250 / 250 / 250: max/min 2).
  expect(ratio(counts), `nodes ${counts.join('/')}`).toBeLessThanOrEqual(1.1);
  await closeAll();
  await settledCounts(0);
});
