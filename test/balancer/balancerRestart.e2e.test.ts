/**
 * The balancer itself restarting, on the same port, under a room in use: 30 followers connected
 * through it and messages sent through it. First kill -9, then a graceful SIGTERM: each time every
 * follower loses its socket, reconnects through the new balancer process and resumes with
 * afterSeq; sends retry with the same clientMessageId; nothing is lost, duplicated or reordered.
 */
import { afterAll, expect, it } from 'vitest';
import { killAllNodes } from '../support/nodeProcess.js';
import { freePort, stopAllRedis } from '../support/redisServer.js';
import { startCluster } from '../support/cluster.js';
import { killAllBalancers, startBalancer, viaBalancer, type BalancerHandle } from '../support/balancerProcess.js';
import { waitFor } from '../support/signals.js';
import { expectNothingLost, followersThrough, sendPaced, trafficFlowing } from './roomTraffic.js';

afterAll(async () => {
  await killAllBalancers();
  await killAllNodes();
  await stopAllRedis();
});

it('a balancer restart (kill -9, then SIGTERM): clients reconnect through the new one and resume, nothing lost', { timeout: 150_000 }, async () => {
  const cluster = await startCluster({ nodes: 3, name: 'br', env: { RATE_LIMIT_MESSAGES: '0' } });
  const port = await freePort();
  const env = { PORT: String(port), BACKENDS: cluster.nodes.map((n) => n.url).join(',') };
  let balancer: BalancerHandle = await startBalancer({ env });
  await balancer.waitForBackends((list) => list.length === 3 && list.every((b) => b.ready), 10_000, 'all 3 ready');
  let current = viaBalancer(balancer);
  const target = () => current;

  const traffic = await followersThrough(target, 30);
  const sending = sendPaced(traffic, target, 200, 50);

  // Each restart: the old process goes, a new one starts on the same port; the time between is
  // what clients see as an outage.
  const outages: number[] = [];
  const restart = async (how: 'kill' | 'stop') => {
    const wentAt = Date.now();
    if (how === 'kill') await balancer.kill();
    else expect(await balancer.stop()).toBe(0);
    balancer = await startBalancer({ env });
    current = viaBalancer(balancer);
    outages.push(Date.now() - wentAt);
  };
  // Each restart strikes with messages flowing through to every follower; the second only once
  // every follower is back from the first (so each loses its socket exactly twice).
  await trafficFlowing(traffic, 20);
  await restart('kill');
  await waitFor(() => traffic.followers.every((f) => f.subscriptions.length === 2), 30_000, 'every follower resubscribed after the kill');
  await trafficFlowing(traffic, 20);
  await restart('stop');
  const acked = await sending;

  const head = await expectNothingLost(traffic, target, acked);
  for (const [index, follower] of traffic.followers.entries()) {
    expect(follower.closes.length, `follower ${index} lost its socket at each restart`).toBe(2);
    expect(follower.subscriptions.length, `follower ${index} resubscribed after each`).toBe(3);
    // Each resume asked for what came after the seq it held, not from the start.
    for (const sub of follower.subscriptions.slice(1)) expect(sub.afterSeq).toBeGreaterThan(2);
    expect(follower.failures.filter((f) => !/^resume on/.test(f))).toEqual([]);
  }
  const retried = acked.filter((a) => a.attempts.length > 1);
  console.log(
    `balancer restart: outages ${outages.join(' ms, ')} ms; head ${head}; ${retried.length} of ${acked.length} sends retried (${[...new Set(retried.flatMap((a) => a.attempts.slice(0, -1).map((t) => t.outcome)))].join('; ')})`,
  );
  expect(await balancer.stop()).toBe(0);
});
