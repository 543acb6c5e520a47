/**
 * Panic mode (issue 12, finding 2): when every node's /readyz says not ready, a shared cause is
 * the likely one (a dependency of all of them), and a balancer that then answered 503 to everything
 * would turn a partial outage into a total one. Like Envoy under its panic threshold, it routes
 * over the nodes anyway — those that answer and are not draining — and says so in /healthz,
 * /metrics and its log; once a node is ready again, only ready nodes get traffic.
 */
import { afterEach, expect, it } from 'vitest';
import { killAllBalancers, startBalancer } from '../support/balancerProcess.js';
import { startFakeBackend, type FakeBackend } from './fakeBackend.js';
import { openSocket } from './lightClients.js';

const backends: FakeBackend[] = [];
async function fake(options: Parameters<typeof startFakeBackend>[0] = {}): Promise<FakeBackend> {
  const backend = await startFakeBackend(options);
  backends.push(backend);
  return backend;
}

afterEach(async () => {
  await killAllBalancers();
  await Promise.all(backends.splice(0).map((b) => b.close().catch(() => {})));
});

it('every node unready (not draining): traffic still goes to them, and the balancer says it is in panic', async () => {
  const a = await fake();
  const b = await fake();
  const balancer = await startBalancer({ env: { BACKENDS: `${a.url},${b.url}`, HEALTH_INTERVAL_MS: '200' } });
  await balancer.waitForBackends((list) => list.length === 2 && list.every((x) => x.ready), 5_000, 'both ready');

  for (const backend of [a, b]) {
    backend.unreadyState = 'unavailable';
    backend.readyStatus = 503;
  }
  await balancer.waitForBackends((list) => list.every((x) => !x.ready), 5_000, 'both unready');
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await fetch(`${balancer.url}/p${i}`)).status);
  expect(statuses, 'served, not 503').toEqual([200, 200, 200, 200, 200, 200]);
  expect(a.requests.length, 'spread over both').toBeGreaterThan(0);
  expect(b.requests.length).toBeGreaterThan(0);
  const opened = await openSocket(balancer.wsUrl, { init: false });
  expect(opened.ok, 'upgrades too').toBe(true);
  if (opened.ok) opened.ws.terminate();

  const health = (await (await fetch(`${balancer.url}/healthz`)).json()) as { panic?: boolean };
  expect(health.panic).toBe(true);
  const metrics = await balancer.metrics();
  expect(metrics).toMatch(/^balancer_panic 1$/m);
  expect(metrics).toMatch(/^balancer_panic_routed_total 7$/m);
  await balancer.waitForLog(/panic/i, 2_000);

  // One node ready again: it alone gets the traffic, and the panic is over.
  a.readyStatus = 200;
  await balancer.waitForBackends((list) => list.some((x) => x.ready), 5_000, 'a ready again');
  const onB = b.requests.length;
  for (let i = 0; i < 4; i++) expect((await fetch(`${balancer.url}/r${i}`)).status).toBe(200);
  expect(b.requests.length, 'the unready node gets nothing once another is ready').toBe(onB);
  expect(await balancer.metrics()).toMatch(/^balancer_panic 0$/m);
  expect(((await (await fetch(`${balancer.url}/healthz`)).json()) as { panic?: boolean }).panic).toBe(false);
});

it('every node draining or down: no panic, a clear 503', async () => {
  const draining = await fake({ readyStatus: 503 }); // its /readyz says "draining"
  const down = await fake();
  const balancer = await startBalancer({ env: { BACKENDS: `${draining.url},${down.url}`, HEALTH_INTERVAL_MS: '200' } });
  await down.close();
  await balancer.waitForBackends((list) => list.length === 2 && list.every((x) => !x.ready), 5_000, 'none ready');
  const response = await fetch(`${balancer.url}/graphql?query=%7B__typename%7D`);
  expect(response.status).toBe(503);
  expect(draining.requests).toHaveLength(0);
  expect(await balancer.metrics()).toMatch(/^balancer_panic 0$/m);
});
