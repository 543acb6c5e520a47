import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadBalancerConfig } from '../../balancer/config.js';
import { buildBalancer } from '../../balancer/server.js';
import { createLogger } from '../../common/logger.js';
import { startFakeBackend, type FakeBackend } from './fakeBackend.js';

let backend: FakeBackend | null = null;
afterEach(async () => {
  await backend?.close();
  backend = null;
});

describe('Balancer.stop()', () => {
  it('closes the WebSockets it proxies, not only its listening socket', async () => {
    backend = await startFakeBackend();
    const config = loadBalancerConfig({ PORT: '0', BACKENDS: backend.url, HEALTH_INTERVAL_MS: '100' });
    const balancer = buildBalancer(config, createLogger({ level: 'silent', nodeId: 'test' }));
    const url = await balancer.start();
    const deadline = Date.now() + 5_000;
    const ready = async () => ((await (await fetch(`${url}/healthz`)).json()) as { backends: Array<{ ready: boolean }> }).backends[0]?.ready;
    while (!(await ready()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const ws = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await balancer.stop();
    const outcome = await Promise.race([closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open after 3 s'), 3_000))]);
    expect(outcome).toBe('closed');
    ws.terminate();
  });
});
