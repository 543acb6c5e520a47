/**
 * One chat across three nodes (docs/architecture.md, "The guarantees"): sends on any node reach
 * subscribers on every node in order, exactly once; concurrent sends from all nodes to one room
 * get gap-free unique seqs; a node started later serves history from the shared read models at once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MESSAGE_FIELDS,
  createRoom,
  createUser,
  eventually,
  gql,
  joinRoom,
  range,
  readLog,
  roomHead,
  sendMessage,
  type MessageInfo,
  type UserSession,
} from '../support/gql.js';
import type { NodeHandle } from '../support/nodeProcess.js';
import { RoomFollower, accountDelivery, nodeId, percentile, problemLines, sendOnce, startCluster, type Cluster } from '../support/cluster.js';

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

/**
 * The three-node chat tests, on the store `env` names (crossNode.e2e.test.ts: SQLite in the shared
 * DATA_DIR; crossNode.postgres.e2e.test.ts: PostgreSQL). `env` is called once, before the nodes start.
 */
export function describeThreeNodesOneChat(title: string, env: () => Record<string, string> = () => ({})): void {
describe(title, () => {
  let cluster: Cluster;
  let a: NodeHandle;
  let b: NodeHandle;
  let c: NodeHandle;
  const followers: RoomFollower[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, env: { RATE_LIMIT_MESSAGES: '0', ...env() } });
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
}
