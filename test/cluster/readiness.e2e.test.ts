/**
 * What a node's /readyz says (issue 12, finding 2): whether THIS node can serve — its event store
 * answers and it is not draining. Redis is shared by every node, and sends and delivery go on
 * without it, so a Redis outage is reported in the body (`redis: "degraded"`), never as 503: a
 * balancer would otherwise take every node out at once.
 */
import { afterAll, expect, it } from 'vitest';
import { createRoom, createUser, sendMessage } from '../support/gql.js';
import { killAllNodes } from '../support/nodeProcess.js';
import { stopAllRedis } from '../support/redisServer.js';
import { startCluster } from '../support/cluster.js';
import { waitFor } from '../support/signals.js';

afterAll(async () => {
  await killAllNodes();
  await stopAllRedis();
});

async function readyz(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

it('Redis down: /readyz stays 200 and says redis "degraded"; sends still succeed; back to "ok" when Redis returns', { timeout: 60_000 }, async () => {
  const cluster = await startCluster({ nodes: 1, name: 'rz', env: { RATE_LIMIT_MESSAGES: '0' } });
  const node = cluster.nodes[0]!;
  expect(await readyz(node.url)).toMatchObject({ status: 200, body: { ready: true, redis: 'ok' } });
  const ada = await createUser(node.url, 'ada');
  const room = await createRoom(node.url, ada.token, 'readiness');

  await cluster.redis.kill();
  const statuses: number[] = [];
  const degraded = await waitFor(
    async () => {
      const probe = await readyz(node.url);
      statuses.push(probe.status);
      return probe.body.redis === 'degraded' && probe;
    },
    10_000,
    'redis reported degraded',
    100,
  );
  expect(degraded).toMatchObject({ status: 200, body: { ready: true, status: 'ready', redis: 'degraded' } });
  expect(await sendMessage(node.url, ada.token, room.id, 'while Redis is down')).toMatchObject({ body: 'while Redis is down' });
  expect((await readyz(node.url)).status).toBe(200);

  await cluster.redis.restart();
  await waitFor(async () => (await readyz(node.url)).body.redis === 'ok', 15_000, 'redis ok again', 100);
  expect(statuses.every((s) => s === 200), `no probe answered anything but 200: ${statuses.join(',')}`).toBe(true);
});
