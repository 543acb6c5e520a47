/**
 * Retrying what never reached a node (issue 12, finding 3), against small backends that can be
 * told to fail. A request is sent to another node when the first one was never reached
 * (connection refused) or refused it unprocessed (503, as a draining node does), so the client
 * sees no error; a request a node may have processed (it read it all, then dropped the connection)
 * is never sent again. A body is replayed only when the balancer kept it (up to a small bound).
 * Health checks are slowed to a minute so that only the requests themselves reveal the failures.
 */
import { request } from 'node:http';
import { afterEach, expect, it } from 'vitest';
import { backendOf, killAllBalancers, startBalancer, type BalancerHandle } from '../support/balancerProcess.js';
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

async function twoBehind(first: FakeBackend, second: FakeBackend, env: Record<string, string> = {}): Promise<BalancerHandle> {
  const balancer = await startBalancer({ env: { BACKENDS: `${first.url},${second.url}`, HEALTH_INTERVAL_MS: '60000', ...env } });
  await balancer.waitForBackends((list) => list.length === 2 && list.every((b) => b.ready), 5_000, 'both ready');
  return balancer;
}

/** POSTs `body` (with a Content-Length) and resolves with the status and the answer's text. */
function post(url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

const metric = (text: string, name: string): number => {
  let sum = 0;
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(match[1]);
  return sum;
};

it('connection refused: GETs and POSTs (body kept) go to the other node; the client sees no error', async () => {
  const dead = await fake();
  const live = await fake();
  const balancer = await twoBehind(dead, live);
  await dead.close(); // gone between two health checks: its port refuses connections

  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await fetch(`${balancer.url}/q${i}`)).status);
  const body = JSON.stringify({ query: '{ __typename }', pad: 'x'.repeat(10_000) });
  const posted = await post(balancer.url, body);
  expect(statuses).toEqual([200, 200, 200]);
  expect(posted.status).toBe(200);
  expect((JSON.parse(posted.text) as { body: string }).body, 'the body arrives whole on the second node').toBe(body);
  expect(live.requests.map((r) => r.url)).toEqual(['/q0', '/q1', '/q2', '/graphql']);

  const metrics = await balancer.metrics();
  expect(metric(metrics, 'balancer_retries_total'), 'the one request that met the dead node was retried').toBe(1);
  expect(backendOf(await balancer.backends(), dead)?.ready).toBe(false);
});

it('connection refused with a body too large to keep: streamed, and still retried (nothing of it was read)', async () => {
  const dead = await fake();
  const live = await fake();
  const balancer = await twoBehind(dead, live, { RETRY_BODY_BYTES: '1024' });
  await dead.close();
  const body = JSON.stringify({ query: '{ __typename }', pad: 'y'.repeat(20_000) });
  const results = [await post(balancer.url, body), await post(balancer.url, body)];
  expect(results.map((r) => r.status)).toEqual([200, 200]);
  for (const r of results) expect((JSON.parse(r.text) as { body: string }).body).toBe(body);
});

it('a draining node refusing with 503: the request goes to the other node, and the draining one is out of rotation', async () => {
  const draining = await fake({ httpMode: 'draining' });
  const live = await fake();
  const balancer = await twoBehind(draining, live);
  const results = [];
  for (let i = 0; i < 4; i++) results.push(await post(balancer.url, JSON.stringify({ query: `{ n${i} }` })));
  expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
  expect(draining.requests, 'the draining node was tried once, then taken out').toHaveLength(1);
  expect(live.requests).toHaveLength(4);
  expect(backendOf(await balancer.backends(), draining)?.ready).toBe(false);
});

it('a node that read the whole request and then dropped the connection: NOT retried (it may have processed it), 502', async () => {
  const crashing = await fake({ httpMode: 'reset' });
  const live = await fake();
  const balancer = await twoBehind(crashing, live);
  const results = [];
  for (let i = 0; i < 2; i++) results.push(await post(balancer.url, JSON.stringify({ query: `mutation { m${i} }` })));
  expect(results.map((r) => r.status).sort()).toEqual([200, 502]);
  expect(crashing.requests).toHaveLength(1);
  expect(live.requests, 'the request the crashing node read was not sent again').toHaveLength(1);
  expect(metric(await balancer.metrics(), 'balancer_retries_total')).toBe(0);
});

it('a WebSocket upgrade whose node refuses the connection: opened on the other node', async () => {
  const dead = await fake();
  const live = await fake();
  const balancer = await twoBehind(dead, live);
  await dead.close();
  for (let i = 0; i < 3; i++) {
    const opened = await openSocket(balancer.wsUrl, { init: false, timeoutMs: 5_000 });
    expect(opened.ok, `upgrade ${i}`).toBe(true);
    if (opened.ok) opened.ws.terminate();
  }
  expect(live.upgrades).toHaveLength(3);
  expect(metric(await balancer.metrics(), 'balancer_retries_total')).toBe(1);
});
