/**
 * Where backends come from. Static (BACKENDS): always listed; one that stops answering /readyz
 * (SIGSTOP) is out of rotation within 2 s and back once it answers again (SIGCONT). Discovered
 * (REDIS_URL): nodes announce themselves with a heartbeat; one started later is picked up and
 * given connections, one killed drops out when its announcement lapses, one SIGTERMed withdraws
 * at once. Both at once: a node that is static and announced is one backend, not two.
 */
import { afterAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type WebSocket from 'ws';
import { pool, sleep } from '../support/gql.js';
import { killAllNodes, type NodeHandle } from '../support/nodeProcess.js';
import { stopAllRedis } from '../support/redisServer.js';
import { nodeId, startCluster, waitForExit } from '../support/cluster.js';
import { waitFor } from '../support/signals.js';
import { backendOf, killAllBalancers, startBalancer, type BalancerHandle, type BackendStatus } from '../support/balancerProcess.js';
import { mustOpen } from './lightClients.js';

const sockets: WebSocket[] = [];
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await killAllBalancers();
  await killAllNodes();
  await stopAllRedis();
});

async function openMany(balancer: BalancerHandle, count: number): Promise<void> {
  const opened = await pool(count, 10, () => mustOpen(balancer.wsUrl));
  sockets.push(...opened);
}

async function nodeConnections(node: NodeHandle): Promise<number> {
  const response = await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return ((await response.json()) as { connections: number }).connections;
}

const ids = (list: BackendStatus[]) => list.map((b) => b.id).sort();

it('static BACKENDS: a node that stops answering leaves rotation within 2 s and comes back when it answers again', { timeout: 90_000 }, async () => {
  const cluster = await startCluster({ nodes: 2, name: 'st', env: { RATE_LIMIT_MESSAGES: '0' } });
  const [a, b] = cluster.nodes as [NodeHandle, NodeHandle];
  const balancer = await startBalancer({ env: { BACKENDS: `${a.url},${b.url}` } });
  await balancer.waitForBackends((list) => list.length === 2 && list.every((x) => x.ready), 10_000, 'both ready');

  const stoppedAt = Date.now();
  a.process.kill('SIGSTOP');
  try {
    await balancer.waitForBackends((list) => backendOf(list, a)?.ready === false, 2_000, 'frozen node out of rotation');
    const outMs = Date.now() - stoppedAt;
    // Static: still listed, just not ready; every new connection goes to b.
    expect(ids(await balancer.backends())).toEqual([a.url, b.url].sort());
    const onB = await nodeConnections(b);
    await openMany(balancer, 10);
    expect(await nodeConnections(b)).toBe(onB + 10);
    console.log(`static: frozen node out of rotation after ${outMs} ms`);
  } finally {
    a.process.kill('SIGCONT');
  }
  const resumedAt = Date.now();
  await balancer.waitForBackends((list) => backendOf(list, a)?.ready === true, 2_500, 'thawed node back in rotation');
  console.log(`static: thawed node back after ${Date.now() - resumedAt} ms`);
  // Least connections: a is empty, so the next ten all go there.
  const onA = await nodeConnections(a);
  await openMany(balancer, 10);
  expect(await nodeConnections(a)).toBe(onA + 10);
});

it('Redis discovery: a node started later is picked up; a killed node drops out; a SIGTERMed one withdraws at once', { timeout: 120_000 }, async () => {
  const cluster = await startCluster({ nodes: 2, name: 'dz', env: { RATE_LIMIT_MESSAGES: '0', SHUTDOWN_GRACE_MS: '3000' } });
  const [n1, n2] = cluster.nodes as [NodeHandle, NodeHandle];
  const balancer = await startBalancer({ env: { REDIS_URL: cluster.redis.url } });
  const both = await balancer.waitForBackends((list) => list.length === 2 && list.every((x) => x.ready), 10_000, 'both announced nodes ready');
  expect(ids(both)).toEqual([n1.url, n2.url].sort());
  await openMany(balancer, 20);
  expect([await nodeConnections(n1), await nodeConnections(n2)]).toEqual([10, 10]);

  // A third node, started now with the same REDIS_URL.
  const n3 = await cluster.addNode();
  const startedAt = Date.now();
  await balancer.waitForBackends((list) => backendOf(list, n3)?.ready === true, 5_000, 'new node discovered and ready');
  const pickedUpMs = Date.now() - startedAt;
  // It is the emptiest: the next 10 connections all go to it, then they spread evenly again.
  await openMany(balancer, 10);
  expect(await nodeConnections(n3)).toBe(10);
  await openMany(balancer, 6);
  expect(await Promise.all([n1, n2, n3].map(nodeConnections))).toEqual([12, 12, 12]);

  // kill -9: no more announcements; out of rotation within 2 s, off the list once the TTL lapses.
  const killedAt = Date.now();
  await n2.kill();
  await balancer.waitForBackends((list) => backendOf(list, n2)?.ready !== true, 2_000, 'killed node out of rotation');
  await balancer.waitForBackends((list) => backendOf(list, n2) === undefined, 6_000, 'killed node dropped from the list');
  const droppedMs = Date.now() - killedAt;
  await openMany(balancer, 10);
  expect((await nodeConnections(n1)) + (await nodeConnections(n3))).toBe(12 + 12 + 10);

  // SIGTERM: it withdraws its announcement at once (and answers /readyz 503 while it drains).
  const termAt = Date.now();
  const exit = waitForExit(n3, 20_000);
  n3.process.kill('SIGTERM');
  await balancer.waitForBackends((list) => backendOf(list, n3) === undefined, 2_000, 'draining node withdrawn');
  const withdrawnMs = Date.now() - termAt;
  const onN3 = await nodeConnections(n3); // still answering during its grace period
  await openMany(balancer, 5);
  expect(await nodeConnections(n3)).toBe(onN3);
  expect((await exit).code).toBe(0);
  expect(ids(await balancer.backends())).toEqual([n1.url]);
  console.log(`discovery: new node picked up after ${pickedUpMs} ms; killed node dropped after ${droppedMs} ms; SIGTERMed node withdrawn after ${withdrawnMs} ms`);

  // And back: a node started again is discovered again.
  const n4 = await cluster.addNode();
  await balancer.waitForBackends((list) => list.length === 2 && backendOf(list, n4)?.ready === true, 5_000, 'another new node');
});

it('static and discovered together: a node in both is one backend; a static one stays listed when it dies', { timeout: 90_000 }, async () => {
  const cluster = await startCluster({ nodes: 2, name: 'mx', env: { RATE_LIMIT_MESSAGES: '0' } });
  const [n1, n2] = cluster.nodes as [NodeHandle, NodeHandle];
  const balancer = await startBalancer({ env: { BACKENDS: n1.url, REDIS_URL: cluster.redis.url } });
  const list = await balancer.waitForBackends((l) => l.length === 2 && l.every((x) => x.ready), 10_000, 'static + discovered ready');
  expect(ids(list)).toEqual([n1.url, n2.url].sort());
  // Under test: a few discovery rounds pass, and still no duplicate.
  await sleep(1_500);
  expect(await balancer.backends()).toHaveLength(2);
  await n1.kill();
  await balancer.waitForBackends((l) => backendOf(l, n1)?.ready === false, 2_000, 'static node out of rotation');
  // Its announcement lapses (the key's TTL runs out), then a discovery round (HEALTH_INTERVAL_MS,
  // 1 s by default) passes: the window in which a balancer that dropped static nodes would.
  const redis = new Redis(cluster.redis.url);
  try {
    await waitFor(async () => (await redis.exists(`${cluster.env.REDIS_PREFIX ?? 'roomlog:'}nodes:${nodeId(n1)}`)) === 0, 10_000, 'its announcement lapsed');
  } finally {
    redis.disconnect();
  }
  await sleep(1_200);
  expect(ids(await balancer.backends()), 'static: kept, to come back when it answers').toEqual([n1.url, n2.url].sort());
  await openMany(balancer, 4);
  expect(await nodeConnections(n2)).toBe(4);
});
