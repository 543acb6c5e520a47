/**
 * One chat across three nodes (docs/architecture.md, "The guarantees"): nodes on one DATA_DIR, one Redis and
 * one JWT secret. Sends on any node reach subscribers on every node in order, exactly once;
 * concurrent sends from all nodes to one room get gap-free unique seqs; a node started later serves
 * history from the shared read models at once; the rate limit is one limit for the whole cluster.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MESSAGE_FIELDS,
  collect,
  createRoom,
  createUser,
  errorCodes,
  eventually,
  gql,
  joinRoom,
  range,
  readLog,
  roomHead,
  sendMessage,
  trySend,
  wsClient,
  type MessageInfo,
  type UserSession,
} from '../support/gql.js';
import { killAllNodes, type NodeHandle } from '../support/nodeProcess.js';
import { stopAllRedis } from '../support/redisServer.js';
import { liveSubscriptions, waitForSubscriptions } from '../support/signals.js';
import {
  RoomFollower,
  accountDelivery,
  nodeId,
  percentile,
  problemLines,
  sendOnce,
  startCluster,
  type Cluster,
} from '../support/cluster.js';

afterAll(async () => {
  await killAllNodes();
  await stopAllRedis();
});

/** Each follower got exactly (after, head], ascending, once; the message seqs carry the acked ids. */
function expectExactly(follower: RoomFollower, after: number, head: number, acked: MessageInfo[]): void {
  const delivery = accountDelivery(follower.seqs, after, head);
  expect({ node: follower.node && nodeId(follower.node), ...delivery }).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
  expect(follower.seqs).toEqual(range(after + 1, head));
  const bySeq = new Map(follower.received.map((r) => [r.seq, r]));
  for (const message of acked) {
    expect(bySeq.get(message.seq), `seq ${message.seq}`).toMatchObject({
      type: 'MessagePosted',
      clientMessageId: message.clientMessageId,
      authorId: message.author.id,
    });
  }
}

describe('three nodes, one chat', () => {
  let cluster: Cluster;
  let a: NodeHandle;
  let b: NodeHandle;
  let c: NodeHandle;
  const followers: RoomFollower[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, env: { RATE_LIMIT_MESSAGES: '0' } });
    [a, b, c] = cluster.nodes as [NodeHandle, NodeHandle, NodeHandle];
  });

  afterAll(async () => {
    for (const follower of followers) follower.close();
    const problems = problemLines(cluster?.nodes ?? []);
    if (problems.length) console.log(`log lines at level ≥ 40:\n${problems.join('\n')}`);
    for (const node of cluster?.live() ?? []) expect(await node.stop()).toBe(0);
  });

  const follow = async (node: NodeHandle, token: string, roomId: string, afterSeq?: number) => {
    const follower = new RoomFollower(token, roomId);
    followers.push(follower);
    await follower.connect(node, afterSeq);
    return follower;
  };

  it('a subscriber on each node sees the sends made on every node, in order, exactly once', async () => {
    const alice = await createUser(a.url, 'alice');
    const bob = await createUser(b.url, 'bob');
    const carol = await createUser(c.url, 'carol');
    const room = await createRoom(a.url, alice.token, 'across nodes');
    await joinRoom(b.url, bob.token, room.id);
    await joinRoom(c.url, carol.token, room.id);
    const before = await roomHead(c.url, carol.token, room.id);
    expect(before).toBe(4);

    const onA = await follow(a, alice.token, room.id, 0);
    const onB = await follow(b, bob.token, room.id, 0);
    const onC = await follow(c, carol.token, room.id, 0);

    const senders: Array<[NodeHandle, UserSession]> = [
      [b, bob],
      [c, carol],
      [a, alice],
    ];
    const acked: Array<MessageInfo & { ackAt: number }> = [];
    for (let round = 0; round < 6; round++) {
      for (const [node, user] of senders) {
        const message = await sendMessage(node.url, user.token, room.id, `${user.user.name} round ${round} via ${nodeId(node)}`);
        acked.push({ ...message, ackAt: Date.now() });
      }
    }
    const head = before + acked.length;
    expect(acked.map((m) => m.seq)).toEqual(range(before + 1, head));
    await eventually(async () => (await roomHead(b.url, bob.token, room.id)) === head, 5_000, 'the projected head');

    for (const follower of [onA, onB, onC]) await follower.waitForSeq(head, 10_000);
    // Under test: anything extra (a duplicate, an event from elsewhere) would show up in this window.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const follower of [onA, onB, onC]) expectExactly(follower, 0, head, acked);

    const delays = [onA, onB, onC].flatMap((follower) =>
      acked.map((m) => follower.received.find((r) => r.seq === m.seq)!.at - m.ackAt),
    );
    console.log(`cross-node delivery, ack → receipt: p50 ${percentile(delays, 50)} ms, max ${Math.max(...delays)} ms`);
  });

  it('3 × 100 concurrent sends from all three nodes get seqs 3..302, unique and gap-free, and every node delivers 1..302', async () => {
    const dave = await createUser(a.url, 'dave');
    const room = await createRoom(a.url, dave.token, 'contended');
    const subscribers = [await follow(a, dave.token, room.id, 0), await follow(b, dave.token, room.id, 0), await follow(c, dave.token, room.id, 0)];

    const started = Date.now();
    const results = await Promise.all(
      [a, b, c].flatMap((node, n) =>
        range(1, 100).map((i) => sendOnce(node, dave.token, room.id, `concurrent ${i} via node ${n}`, randomUUID(), 30_000)),
      ),
    );
    const failed = results.filter((r) => !r.message).map((r) => r.attempt);
    expect(failed, `failed sends: ${JSON.stringify(failed.slice(0, 5))}`).toEqual([]);
    const acked = results.map((r) => r.message!);
    console.log(`300 concurrent sends over 3 nodes acknowledged in ${Date.now() - started} ms`);
    expect(acked.map((m) => m.seq).sort((x, y) => x - y)).toEqual(range(3, 302));

    const log = await readLog(b.url, dave.token, room.id);
    expect(log.map((e) => e.seq)).toEqual(range(1, 302));
    const posted = log.filter((e) => e.__typename === 'MessagePosted');
    expect(posted).toHaveLength(300);
    const logSeqById = new Map(posted.map((e) => [e.message!.clientMessageId, e.seq]));
    expect(logSeqById.size).toBe(300);
    for (const message of acked) expect(logSeqById.get(message.clientMessageId)).toBe(message.seq);

    for (const follower of subscribers) await follower.waitForSeq(302, 20_000);
    // Under test: anything extra would show up in this window.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const follower of subscribers) expectExactly(follower, 0, 302, acked);

    // A node started now serves the history from the shared read models at once, replaying nothing.
    const later = await cluster.addNode();
    const listenedAt = Date.now();
    const page = (after: number) =>
      gql<{ messages: MessageInfo[] }>(
        later.url,
        `query($roomId: ID!, $after: Int) { messages(roomId: $roomId, after: $after, limit: 200) { ${MESSAGE_FIELDS} } }`,
        { roomId: room.id, after },
        dave.token,
      );
    const history = [...(await page(2)).messages, ...(await page(202)).messages];
    const answeredMs = Date.now() - listenedAt;
    console.log(`a node started later answered the whole history (300 messages) ${answeredMs} ms after it listened`);
    expect(history.map((m) => m.seq)).toEqual(range(3, 302));
    const ackedBySeq = new Map(acked.map((m) => [m.seq, m]));
    for (const message of history) {
      const original = ackedBySeq.get(message.seq)!;
      expect(message).toMatchObject({ id: original.id, clientMessageId: original.clientMessageId, body: original.body });
    }
    const replayed = later.logs.find((line) => line.includes('replayed the log into the read models'));
    expect(replayed, 'the start-up report').toBeDefined();
    expect(JSON.parse(replayed!).events).toBe(0);
    expect(await roomHead(later.url, dave.token, room.id)).toBe(302);
    expect(await later.stop()).toBe(0);
  });
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
