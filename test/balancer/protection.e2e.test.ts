/**
 * The balancer's own protections, against small in-process backends that can be told to fail:
 * a clear 503 when no backend is ready, health checks that take a failing backend out within
 * 2 s and bring a recovered one back, a backend that never answers the upgrade (or dies in the
 * middle of it) giving the client an error instead of a hang, and header / idle timeouts against
 * slowloris clients and idle keep-alive connections.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../support/gql.js';
import { waitFor } from '../support/signals.js';
import { backendOf, killAllBalancers, startBalancer } from '../support/balancerProcess.js';
import { startFakeBackend, type FakeBackend } from './fakeBackend.js';
import { openSocket, rawTcp } from './lightClients.js';

const backends: FakeBackend[] = [];
async function fake(options: Parameters<typeof startFakeBackend>[0] = {}): Promise<FakeBackend> {
  const backend = await startFakeBackend(options);
  backends.push(backend);
  return backend;
}

afterEach(async () => {
  await killAllBalancers();
  await Promise.all(backends.splice(0).map((b) => b.close()));
});
afterAll(killAllBalancers);

describe('no ready backend', () => {
  it('answers 503 (JSON, Retry-After) to HTTP and upgrades, and serves again once a backend recovers', async () => {
    const backend = await fake({ readyStatus: 503 });
    const balancer = await startBalancer({ env: { BACKENDS: backend.url, HEALTH_INTERVAL_MS: '200' } });
    await balancer.waitForBackends((list) => backendOf(list, backend)?.ready === false, 5_000, 'backend known and not ready');

    const response = await fetch(`${balancer.url}/graphql`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toEqual({ error: expect.stringMatching(/no node is ready/) });
    const upgrade = await openSocket(balancer.wsUrl, { init: false });
    expect(upgrade).toMatchObject({ ok: false, status: 503 });
    expect(backend.requests).toHaveLength(0);
    expect(backend.upgrades).toHaveLength(0);

    // Its own endpoints do not depend on backends.
    expect((await fetch(`${balancer.url}/healthz`)).status).toBe(200);

    backend.readyStatus = 200;
    await balancer.waitForBackends((list) => backendOf(list, backend)?.ready === true, 2_000, 'recovered backend back in rotation');
    expect((await fetch(`${balancer.url}/anything`)).status).toBe(200);
    const opened = await openSocket(balancer.wsUrl, { init: false });
    expect(opened.ok).toBe(true);
    if (opened.ok) opened.ws.terminate();

    const metrics = await balancer.metrics();
    expect(metrics).toMatch(/balancer_failures_total\{reason="no_backend"\} 2\b/);
  });
});

describe('health checks', () => {
  it('a backend whose /readyz turns 503 gets no new connection after 2 s; once it answers 200 again it gets its share', async () => {
    const a = await fake();
    const b = await fake();
    // The default HEALTH_INTERVAL_MS (1 s): the 2 s promise is made for it.
    const balancer = await startBalancer({ env: { BACKENDS: `${a.url},${b.url}` } });
    await balancer.waitForBackends((list) => list.length === 2 && list.every((x) => x.ready), 5_000, 'both ready');

    // Requests every 25 ms, all the way through; note when each backend last got one.
    const lastHit = new Map<string, number>();
    let stopped = false;
    const traffic = (async () => {
      while (!stopped) {
        const response = await fetch(`${balancer.url}/who`);
        if (response.status === 200) lastHit.set(response.headers.get('x-backend-port')!, Date.now());
        else await response.text();
        // Part of the scenario: a steady request rate.
        await sleep(25);
      }
    })();
    try {
      await waitFor(() => lastHit.has(String(a.port)), 5_000, 'traffic reaching A');
      expect(lastHit.get(String(a.port))).toBeDefined();
      const failedAt = Date.now();
      a.readyStatus = 503;
      // Out of rotation (the balancer says so), then a window in which A must get nothing more.
      await balancer.waitForBackends((list) => backendOf(list, a)?.ready === false, 3_000, 'A out of rotation');
      await sleep(500);
      const lastToA = lastHit.get(String(a.port))!;
      expect(lastToA - failedAt, 'ms from /readyz 503 to the last request A got').toBeLessThan(2_000);
      expect(Date.now() - lastHit.get(String(b.port))!, 'B keeps serving').toBeLessThan(500);

      const recoveredAt = Date.now();
      a.readyStatus = 200;
      await waitFor(() => (lastHit.get(String(a.port)) ?? 0) > recoveredAt, 2_500, 'A gets requests again').catch(() => {});
      expect(lastHit.get(String(a.port))! - recoveredAt, 'A gets requests again').toBeGreaterThan(0);
    } finally {
      stopped = true;
      await traffic;
    }
    const metrics = await balancer.metrics();
    expect(metrics).toContain(`balancer_ejections_total{backend="${a.url}"} 1`);
  });
});

describe('an upstream that misbehaves during the upgrade', () => {
  it('never answering: the client gets 504 within UPSTREAM_TIMEOUT_MS, not a hang', async () => {
    const backend = await fake({ upgradeMode: 'hang' });
    const balancer = await startBalancer({ env: { BACKENDS: backend.url, UPSTREAM_TIMEOUT_MS: '1000', HEALTH_INTERVAL_MS: '200' } });
    await balancer.waitForBackends((list) => list[0]?.ready === true, 5_000, 'ready');
    const result = await openSocket(balancer.wsUrl, { init: false, timeoutMs: 10_000 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(backend.upgrades, 'the upgrade reached the backend').toHaveLength(1);
    expect(result.status).toBe(504);
    expect(result.ms).toBeGreaterThanOrEqual(900);
    expect(result.ms).toBeLessThan(2_000);
    expect(await balancer.metrics()).toMatch(/balancer_failures_total\{reason="upgrade_upstream"\} 1\b/);
  });

  it('refused with 503 by a draining node the health check has not caught yet: the upgrade goes to another node', async () => {
    const draining = await fake({ upgradeMode: 'draining' });
    const healthy = await fake();
    // A long health interval: within the test, only the upgrade's own 503 can reveal the drain.
    const balancer = await startBalancer({ env: { BACKENDS: `${draining.url},${healthy.url}`, HEALTH_INTERVAL_MS: '60000' } });
    await balancer.waitForBackends((list) => list.length === 2 && list.every((b) => b.ready), 5_000, 'both ready');
    for (let i = 0; i < 4; i++) {
      const result = await openSocket(balancer.wsUrl, { init: false, timeoutMs: 5_000 });
      expect(result.ok, `connection ${i}`).toBe(true);
      if (result.ok) result.ws.close();
    }
    expect(draining.upgrades.length, 'the draining node was tried once, then ejected').toBe(1);
    expect(healthy.upgrades).toHaveLength(4);
    expect((await balancer.backends()).find((b) => b.id === draining.url)?.ready).toBe(false);
  });

  it('an HTTP request the node never answers gets 504 within UPSTREAM_TIMEOUT_MS', async () => {
    const backend = await fake();
    const balancer = await startBalancer({ env: { BACKENDS: backend.url, UPSTREAM_TIMEOUT_MS: '1000', HEALTH_INTERVAL_MS: '200' } });
    await balancer.waitForBackends((list) => list[0]?.ready === true, 5_000, 'ready');
    const started = Date.now();
    const response = await fetch(`${balancer.url}/hang`, { signal: AbortSignal.timeout(10_000) });
    expect(response.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('dying mid-handshake: the client gets 502 at once', async () => {
    const backend = await fake({ upgradeMode: 'die' });
    const balancer = await startBalancer({ env: { BACKENDS: backend.url, UPSTREAM_TIMEOUT_MS: '5000', HEALTH_INTERVAL_MS: '200' } });
    await balancer.waitForBackends((list) => list[0]?.ready === true, 5_000, 'ready');
    const result = await openSocket(balancer.wsUrl, { init: false, timeoutMs: 10_000 });
    expect(result).toMatchObject({ ok: false, status: 502 });
    if (!result.ok) expect(result.ms).toBeLessThan(1_000);
    expect(backend.upgrades).toHaveLength(1);
  });

  it('a backend port with nothing listening: 502 at once, and the backend is ejected', async () => {
    const backend = await fake();
    const balancer = await startBalancer({ env: { BACKENDS: backend.url, HEALTH_INTERVAL_MS: '60000' } });
    await balancer.waitForBackends((list) => list[0]?.ready === true, 5_000, 'ready');
    await backend.close(); // gone between two health checks
    const result = await openSocket(balancer.wsUrl, { init: false, timeoutMs: 10_000 });
    expect(result).toMatchObject({ ok: false, status: 502 });
    if (!result.ok) expect(result.ms).toBeLessThan(1_000);
    // Passive check: the failed connect took it out of rotation; the next client gets a plain 503.
    expect((await balancer.backends())[0]!.ready).toBe(false);
    expect(await openSocket(balancer.wsUrl, { init: false })).toMatchObject({ ok: false, status: 503 });
  });
});

describe('timeouts', () => {
  it('slowloris: a client that sends half its headers is closed within HEADERS_TIMEOUT_MS', async () => {
    const backend = await fake();
    const balancer = await startBalancer({ env: { BACKENDS: backend.url, HEADERS_TIMEOUT_MS: '1000', IDLE_TIMEOUT_MS: '60000' } });
    // One sends half its headers and stops; the other trickles a header byte every 200 ms, so
    // the connection is never idle.
    const stalled = await rawTcp(balancer.port);
    stalled.socket.write('GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ');
    const trickle = await rawTcp(balancer.port);
    trickle.socket.write('GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const dripping = setInterval(() => trickle.socket.writable && trickle.socket.write('X'), 200);
    try {
      const [stalledMs, trickleMs] = await Promise.all([stalled.closed(5_000), trickle.closed(5_000)]);
      expect(stalledMs).toBeGreaterThanOrEqual(900);
      expect(stalledMs).toBeLessThan(2_000);
      expect(trickleMs).toBeLessThan(2_000);
    } finally {
      clearInterval(dripping);
    }
    expect(backend.requests).toHaveLength(0);
  });

  it('an idle keep-alive connection is closed after IDLE_TIMEOUT_MS; a busy one is not', async () => {
    const backend = await fake();
    const balancer = await startBalancer({ env: { BACKENDS: backend.url, IDLE_TIMEOUT_MS: '1000' } });
    await balancer.waitForBackends((list) => list[0]?.ready === true, 5_000, 'ready');
    const idle = await rawTcp(balancer.port);
    // A proxied path: the balancer's own /healthz closes the connection after answering.
    idle.socket.write('GET /idle HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    const busy = await rawTcp(balancer.port);
    const ask = () => busy.socket.write('GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    ask();
    const asking = setInterval(ask, 300);
    try {
      const idleMs = await idle.closed(5_000);
      expect(idle.received()).toMatch(/^HTTP\/1\.1 200/);
      expect(idleMs).toBeGreaterThanOrEqual(900);
      expect(idleMs).toBeLessThan(2_500);
      // Under test: a connection in use outlives the idle timeout through this window.
      await sleep(1_000);
      expect(busy.socket.destroyed, 'a connection in use stays open').toBe(false);
      expect((busy.received().match(/HTTP\/1\.1 200/g) ?? []).length).toBeGreaterThanOrEqual(5);
    } finally {
      clearInterval(asking);
      busy.socket.destroy();
    }
  });
});
