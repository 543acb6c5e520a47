/**
 * One chat across three nodes (docs/architecture.md, "The guarantees"): nodes on one DATA_DIR, one Redis and
 * one JWT secret. Sends on any node reach subscribers on every node in order, exactly once;
 * concurrent sends from all nodes to one room get gap-free unique seqs; a node started later serves
 * history from the shared read models at once (threeNodesOneChat.ts, also run on PostgreSQL by
 * crossNode.postgres.e2e.test.ts); the rate limit is one limit for the whole cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, createRoom, createUser, errorCodes, gql, joinRoom, readLog, trySend, wsClient } from '../support/gql.js';
import { killAllNodes, type NodeHandle } from '../support/nodeProcess.js';
import { stopAllRedis } from '../support/redisServer.js';
import { liveSubscriptions, waitForSubscriptions } from '../support/signals.js';
import { nodeId, problemLines, startCluster, type Cluster } from '../support/cluster.js';
import { describeThreeNodesOneChat } from './threeNodesOneChat.js';

describeThreeNodesOneChat('three nodes, one chat');

afterAll(async () => {
  await killAllNodes();
  await stopAllRedis();
});

interface Notice {
  kind: string;
  message: string;
  until: string | null;
}

describe('one rate limit for the whole cluster (5 per 60 s)', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({
      nodes: 3,
      name: 'rl',
      env: { RATE_LIMIT_MESSAGES: '5', RATE_LIMIT_WINDOW_MS: '60000', REDIS_PREFIX: 'ratelimit:' },
    });
  });

  afterAll(async () => {
    const problems = problemLines(cluster?.nodes ?? []);
    if (problems.length) console.log(`log lines at level ≥ 40:\n${problems.join('\n')}`);
    for (const node of cluster?.live() ?? []) expect(await node.stop()).toBe(0);
  });

  it('5 sends spread over the nodes pass, the 6th is refused on every node, the notice reaches another node, and a restart changes nothing', async () => {
    const [a, b, c] = cluster.nodes as [NodeHandle, NodeHandle, NodeHandle];
    const owner = await createUser(a.url, 'owner');
    const room = await createRoom(a.url, owner.token, 'limited');
    const frank = await createUser(b.url, 'frank');
    await joinRoom(c.url, frank.token, room.id);

    const client = wsClient(b.wsUrl, frank.token);
    try {
      const before = await liveSubscriptions(b.url);
      const notices = collect<Notice>(client, { query: 'subscription { notices { kind message until } }' }, 'notices');
      await waitForSubscriptions(b.url, before + 1); // the subscription is live at the broker

      for (const [i, node] of [a, b, c, a, b].entries()) {
        const response = await trySend(node.url, frank.token, room.id, `burst ${i} via ${nodeId(node)}`);
        expect(response.errors, `send ${i + 1} via ${nodeId(node)}: ${response.text}`).toBeUndefined();
      }

      const sixth = await trySend(c.url, frank.token, room.id, 'sixth via c');
      const refusedAt = Date.now();
      expect(errorCodes(sixth)).toEqual(['RATE_LIMITED']);
      const retryAfterMs = sixth.errors![0]!.extensions!.retryAfterMs!;
      expect(retryAfterMs).toBeGreaterThan(0);
      expect(retryAfterMs).toBeLessThanOrEqual(12_000);

      // Sent on C, noticed on B.
      await notices.waitFor((items) => items.length >= 1, 5_000, 'a RATE_LIMITED notice on node B');
      expect(notices.items[0]!.kind).toBe('RATE_LIMITED');
      expect(Date.parse(notices.items[0]!.until!)).toBeGreaterThan(Date.now());

      for (const node of [a, b]) expect(errorCodes(await trySend(node.url, frank.token, room.id, `again via ${nodeId(node)}`))).toEqual(['RATE_LIMITED']);

      // Restart A; the limit lives in Redis, so the restarted node refuses too.
      expect(await a.stop()).toBe(0);
      const restarted = await cluster.addNode();
      const elapsed = Date.now() - refusedAt;
      console.log(`node restarted ${elapsed} ms after the refusal (retryAfterMs was ${retryAfterMs})`);
      expect(elapsed, 'the restart must finish while the user is still limited').toBeLessThan(retryAfterMs - 500);
      const afterRestart = await trySend(restarted.url, frank.token, room.id, 'after the restart');
      expect(errorCodes(afterRestart)).toEqual(['RATE_LIMITED']);
      await notices.waitFor((items) => items.length >= 4, 5_000, 'a notice for every refusal');

      // Another user is not limited by frank's sends.
      expect(errorCodes(await trySend(restarted.url, owner.token, room.id, 'owner is fine'))).toEqual([]);
      const log = await readLog(restarted.url, owner.token, room.id);
      expect(log.filter((e) => e.__typename === 'MessagePosted' && e.message!.author.id === frank.user.id)).toHaveLength(5);
    } finally {
      await client.dispose();
    }
  });
});
