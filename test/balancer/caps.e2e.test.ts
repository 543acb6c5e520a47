/**
 * Admission in front of a real node: the per-IP cap on open connections, the per-IP rate of new
 * ones (token bucket), and the total cap. Other client addresses come from 127.0.0.2, .3, … (all
 * of 127.0.0.0/8 is loopback), so "another IP" is a real other source address.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { sleep } from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import type { ServerHandle } from '../support/nodeProcess.js';
import { killAllBalancers, startBalancer, type BalancerHandle } from '../support/balancerProcess.js';
import { closeSocket, mustOpen, openSocket } from './lightClients.js';

let node: ServerHandle;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
});
afterAll(stopAllInProcessNodes);
afterAll(killAllBalancers);
afterAll(() => {
  for (const ws of sockets) ws.terminate();
});

async function balancerWith(env: Record<string, string>): Promise<BalancerHandle> {
  const balancer = await startBalancer({ env: { BACKENDS: node.url, ...env } });
  await balancer.waitForBackends((list) => list[0]?.ready === true, 10_000, 'node ready');
  return balancer;
}

async function open(balancer: BalancerHandle, localAddress = '127.0.0.1'): Promise<WebSocket> {
  const ws = await mustOpen(balancer.wsUrl, { localAddress });
  sockets.push(ws);
  return ws;
}

/**
 * Opens a socket once the balancer has counted a release: the client sees its socket closed a
 * moment before the balancer's primary has (workers report it over IPC), so a refusal right after
 * a close is retried, bounded, until a connection is admitted.
 */
async function openOnceReleased(balancer: BalancerHandle, localAddress = '127.0.0.1') {
  let attempt = await openSocket(balancer.wsUrl, { localAddress });
  for (let tries = 0; !attempt.ok && tries < 50; tries++) {
    await sleep(100);
    attempt = await openSocket(balancer.wsUrl, { localAddress });
  }
  return attempt;
}

/** The status of a GET through the balancer from `localAddress`. */
function httpStatusFrom(balancer: BalancerHandle, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${balancer.url}/graphql?query=%7B__typename%7D`, { localAddress }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}

/** Open WebSockets on the node, from its /readyz. */
async function nodeConnections(): Promise<number> {
  const response = await fetch(`${node.url}/readyz`);
  return ((await response.json()) as { connections: number }).connections;
}

describe('per-IP cap (MAX_CONNECTIONS_PER_IP)', () => {
  it('refuses the connection over the cap with 429, for that IP only, and admits again once one closes', async () => {
    const balancer = await balancerWith({ MAX_CONNECTIONS_PER_IP: '5' });
    const before = await nodeConnections();
    const mine: WebSocket[] = [];
    for (let i = 0; i < 5; i++) mine.push(await open(balancer));

    const refused = await openSocket(balancer.wsUrl);
    expect(refused).toMatchObject({ ok: false, status: 429 });
    // HTTP counts as a connection too, and is refused with a reason.
    const http = await fetch(`${balancer.url}/graphql?query=%7B__typename%7D`);
    expect(http.status).toBe(429);
    expect(await http.json()).toEqual({ error: 'too many connections from 127.0.0.1' });

    // Another address is not affected.
    const other = await open(balancer, '127.0.0.2');
    expect(await nodeConnections()).toBe(before + 6);

    await closeSocket(mine.pop()!);
    await closeSocket(other);
    const again = await openOnceReleased(balancer);
    expect(again.ok, 'a slot freed by a close is given again').toBe(true);
    if (again.ok) sockets.push(again.ws);
    expect(await openSocket(balancer.wsUrl)).toMatchObject({ ok: false, status: 429 });
    expect(await nodeConnections()).toBe(before + 5);

    expect(await balancer.metrics()).toMatch(/balancer_failures_total\{reason="refused"\} 3\b/);
    for (const ws of [...mine, again.ok ? again.ws : null]) if (ws) await closeSocket(ws);
  });
});

describe('per-IP rate of new connections (NEW_CONNECTIONS_PER_SECOND_PER_IP, NEW_CONNECTIONS_BURST_PER_IP)', () => {
  it('lets a burst through, then refuses with 429 until tokens come back at the set rate', async () => {
    const balancer = await balancerWith({ NEW_CONNECTIONS_PER_SECOND_PER_IP: '2', NEW_CONNECTIONS_BURST_PER_IP: '4' });
    // Every accepted connection takes a token, the test's own /healthz probes too: this client
    // comes from an address of its own.
    const client = '127.0.0.7';
    // Open and close at once: it is the rate of NEW connections that is capped, not how many are open.
    for (let i = 0; i < 4; i++) await closeSocket(await open(balancer, client));
    const refused = await openSocket(balancer.wsUrl, { localAddress: client });
    expect(refused).toMatchObject({ ok: false, status: 429 });
    expect(await httpStatusFrom(balancer, client)).toBe(429);
    // Another address has its own bucket.
    await closeSocket(await open(balancer, '127.0.0.3'));

    // Under test: time passing refills the bucket (2 per second: at least one token back).
    await sleep(600);
    await closeSocket(await open(balancer, client));
    // …and not many more: the burst is spent.
    const results = await Promise.all([openSocket(balancer.wsUrl, { localAddress: client }), openSocket(balancer.wsUrl, { localAddress: client })]);
    expect(results.filter((r) => !r.ok && r.status === 429).length).toBeGreaterThanOrEqual(1);
    for (const r of results) if (r.ok) await closeSocket(r.ws);
  });
});

describe('total cap (MAX_CONNECTIONS)', () => {
  it('refuses with 503 once the balancer holds MAX_CONNECTIONS, whatever the address', async () => {
    const balancer = await balancerWith({ MAX_CONNECTIONS: '6', MAX_CONNECTIONS_PER_IP: '4' });
    const held: WebSocket[] = [];
    for (let i = 0; i < 4; i++) held.push(await open(balancer, '127.0.0.1'));
    for (let i = 0; i < 2; i++) held.push(await open(balancer, '127.0.0.4'));
    expect(await openSocket(balancer.wsUrl, { localAddress: '127.0.0.5' })).toMatchObject({ ok: false, status: 503 });
    const http = await fetch(`${balancer.url}/graphql?query=%7B__typename%7D`);
    expect(http.status).toBe(503);
    expect(await http.json()).toEqual({ error: 'balancer at its connection limit' });
    // Its own health and metrics stay reachable at the cap.
    expect((await fetch(`${balancer.url}/healthz`)).status).toBe(200);

    await closeSocket(held.pop()!);
    const again = await openOnceReleased(balancer, '127.0.0.5');
    expect(again.ok).toBe(true);
    if (again.ok) held.push(again.ws);
    for (const ws of held) await closeSocket(ws);
  });
});
