/**
 * Read-your-writes on every node (README, "Consistency"): a read issued after a mutation's
 * acknowledgement reflects it, whichever node serves the read. Two nodes on one DATA_DIR and one
 * Redis: send on A, then at once read `room(id) { headSeq }` and `messages` on B, 100 times, none
 * stale; a subscription on B started `afterSeq: headSeq` (the head B just reported) gets only what
 * is sent after it; and the same through the balancer, where each request lands on either node.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom, createUser, gql, joinRoom, sendMessage, sleep, type MessageInfo, type UserSession } from '../support/gql.js';
import { killAllBalancers, startBalancer, type BalancerHandle } from '../support/balancerProcess.js';
import { killAllNodes, type NodeHandle } from '../support/nodeProcess.js';
import { stopAllRedis } from '../support/redisServer.js';
import { RoomFollower, percentile, problemLines, startCluster, type Cluster } from '../support/cluster.js';

afterAll(async () => {
  await killAllBalancers();
  await killAllNodes();
  await stopAllRedis();
});

const READ = `query Read($roomId: ID!) {
  room(id: $roomId) { headSeq }
  messages(roomId: $roomId, limit: 3) { seq clientMessageId }
}`;

interface ReadResult {
  room: { headSeq: number } | null;
  messages: Array<{ seq: number; clientMessageId: string }>;
}

/** What a read right after `sent` got wrong (empty when it reflects the send). */
function staleness(read: ReadResult, sent: MessageInfo): string[] {
  const problems: string[] = [];
  if ((read.room?.headSeq ?? 0) < sent.seq) problems.push(`headSeq ${read.room?.headSeq} < ${sent.seq}`);
  if (!read.messages.some((m) => m.seq === sent.seq && m.clientMessageId === sent.clientMessageId)) {
    problems.push(`messages end at ${read.messages.at(-1)?.seq ?? 'nothing'}, without seq ${sent.seq}`);
  }
  return problems;
}

describe('read-your-writes across nodes', () => {
  let cluster: Cluster;
  let a: NodeHandle;
  let b: NodeHandle;
  let user: UserSession;
  let balancer: BalancerHandle | null = null;
  const followers: RoomFollower[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, name: 'ryw', env: { RATE_LIMIT_MESSAGES: '0' } });
    [a, b] = cluster.nodes as [NodeHandle, NodeHandle];
    user = await createUser(a.url, 'writer');
  });

  afterAll(async () => {
    for (const follower of followers) follower.close();
    await balancer?.stop();
    const problems = problemLines(cluster?.nodes ?? []);
    if (problems.length) console.log(`log lines at level ≥ 40:\n${problems.join('\n')}`);
    for (const node of cluster?.live() ?? []) expect(await node.stop()).toBe(0);
  });

  it('send on A, then room(id){headSeq} and messages on B: 100 times, none stale', async () => {
    const room = await createRoom(a.url, user.token, 'read your writes');
    const stale: string[] = [];
    const readMs: number[] = [];
    for (let i = 0; i < 100; i++) {
      const sent = await sendMessage(a.url, user.token, room.id, `message ${i}`);
      const started = performance.now();
      const read = await gql<ReadResult>(b.url, READ, { roomId: room.id }, user.token);
      readMs.push(performance.now() - started);
      const problems = staleness(read, sent);
      if (problems.length) stale.push(`#${i}: ${problems.join('; ')}`);
    }
    console.log(`A → B: read after send p50 ${percentile(readMs, 50).toFixed(1)} ms, p99 ${percentile(readMs, 99).toFixed(1)} ms; ${stale.length} stale`);
    expect(stale).toEqual([]);
  });

  it('a subscription on B started afterSeq: headSeq (as B reports it right after a send on A) gets only what follows', async () => {
    const room = await createRoom(a.url, user.token, 'resume from head');
    const unexpected: string[] = [];
    for (let i = 0; i < 20; i++) {
      const sent = await sendMessage(a.url, user.token, room.id, `before ${i}`);
      const { room: view } = await gql<ReadResult>(b.url, READ, { roomId: room.id }, user.token);
      const head = view?.headSeq ?? 0;
      if (head < sent.seq) unexpected.push(`#${i}: B reported headSeq ${head} after seq ${sent.seq} was acknowledged`);
      const follower = new RoomFollower(user.token, room.id);
      followers.push(follower);
      await follower.connect(b, head);
      const next = await sendMessage(a.url, user.token, room.id, `after ${i}`);
      await follower.waitForSeq(next.seq, 5_000);
      // Under test: an event at or below the head it subscribed after would show up in this window.
      await sleep(50);
      if (follower.seqs.join() !== String(next.seq)) unexpected.push(`#${i}: after ${head} got [${follower.seqs.join()}], expected [${next.seq}]`);
      follower.close();
    }
    expect(unexpected).toEqual([]);
  });

  it('through the balancer: send, then read, 100 times, none stale (each request may land on either node)', async () => {
    balancer = await startBalancer({ env: { BACKENDS: cluster.nodes.map((n) => n.url).join(',') } });
    await balancer.waitForBackends((list) => list.length === 2 && list.every((backend) => backend.ready), 10_000, 'both nodes ready');
    const room = await createRoom(balancer.url, user.token, 'through the balancer');
    const other = await createUser(balancer.url, 'reader');
    await joinRoom(balancer.url, other.token, room.id);
    const stale: string[] = [];
    for (let i = 0; i < 100; i++) {
      const sent = await sendMessage(balancer.url, user.token, room.id, `via balancer ${i}`, randomUUID());
      const read = await gql<ReadResult>(balancer.url, READ, { roomId: room.id }, other.token);
      const problems = staleness(read, sent);
      if (problems.length) stale.push(`#${i}: ${problems.join('; ')}`);
    }
    expect(stale).toEqual([]);
  });
});
