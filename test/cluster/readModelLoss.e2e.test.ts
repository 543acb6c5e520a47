/**
 * Read models lost with Redis (README, "Consistency"): Redis keeps them without persistence, so a
 * restart or a `FLUSHALL` empties them under a running cluster. The projector must notice and
 * rebuild them from the log, and meanwhile no read may present a shorter history as the truth:
 * every read polled through the recovery is either complete or an error that says so. Two nodes
 * on one SQLite DATA_DIR seeded with 100,000 events, one Redis.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../../src/eventStore/sqliteEventStore.js';
import { applyNextPage } from '../../src/projector/applyPage.js';
import { createMemoryReadModelStore } from '../../src/readModels/memoryReadModelStore.js';
import type { MessageView } from '../../projections/views.js';
import { createUser, eventually, http, joinRoom, sendMessage, sleep, type GqlError, type UserSession } from '../support/gql.js';
import { freshDataDir, killAllNodes, startNode, type NodeHandle } from '../support/nodeProcess.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redisServer.js';
import { seedLog } from '../support/seedLog.js';
import { nodeId, problemLines } from '../support/cluster.js';

afterAll(async () => {
  await killAllNodes();
  await stopAllRedis();
});

const EVENTS = 100_000;
const ROOMS = 50;
const HISTORY = 200;

interface Truth {
  /** Public room ids (every seeded room is public). */
  rooms: string[];
  /** Per watched room: headSeq and the newest HISTORY messages, as the log says. */
  watched: Map<string, { headSeq: number; messages: string[] }>;
}

/** A message as compared: what a shorter or stale history would get wrong. */
const messageKey = (m: Pick<MessageView, 'id' | 'seq' | 'body' | 'deleted'>) => `${m.seq}:${m.id}:${m.deleted ? 'deleted' : m.body}`;

const READ = `query Read($r1: ID!, $r2: ID!) {
  rooms { id }
  room1: room(id: $r1) { headSeq }
  room2: room(id: $r2) { headSeq }
  history1: messages(roomId: $r1, limit: ${HISTORY}) { id seq body deleted }
  history2: messages(roomId: $r2, limit: ${HISTORY}) { id seq body deleted }
}`;

interface ReadData {
  rooms?: Array<{ id: string }> | null;
  room1?: { headSeq: number } | null;
  room2?: { headSeq: number } | null;
  history1?: MessageView[] | null;
  history2?: MessageView[] | null;
}

/** Tallies of what the reads polled during a recovery got, field by field. */
interface Tally {
  complete: number;
  errors: Map<string, number>;
  /** A field answered without an error but not as the log says: what this test forbids. */
  wrong: string[];
}

const newTally = (): Tally => ({ complete: 0, errors: new Map(), wrong: [] });

/** Judges each field of one read: an answer must be the whole truth; otherwise it must be an error. */
function judge(tally: Tally, node: string, truth: Truth, ids: [string, string], data: ReadData | null | undefined, errors: GqlError[] | undefined): boolean {
  let complete = true;
  const erred = new Set((errors ?? []).map((e) => String(e.path?.[0] ?? 'request')));
  for (const error of errors ?? []) {
    const key = `${String(error.extensions?.code ?? 'NO_CODE')}: ${error.message}`;
    tally.errors.set(key, (tally.errors.get(key) ?? 0) + 1);
  }
  const check = (field: keyof ReadData, actual: string | undefined, expected: string) => {
    if (erred.has(field) || erred.has('request') || data?.[field] == null) {
      complete = false;
      if (!erred.has(field) && !erred.has('request') && data?.[field] === null) tally.wrong.push(`${node} ${field}: null without an error`);
      return;
    }
    if (actual !== expected) {
      complete = false;
      tally.wrong.push(`${node} ${field}: ${actual?.slice(0, 120)} (expected ${expected.slice(0, 120)})`);
    }
  };
  check('rooms', data?.rooms?.map((r) => r.id).sort().join(), [...truth.rooms].sort().join());
  ids.forEach((roomId, i) => {
    const want = truth.watched.get(roomId)!;
    const room = data?.[i === 0 ? 'room1' : 'room2'];
    const history = data?.[i === 0 ? 'history1' : 'history2'];
    check(i === 0 ? 'room1' : 'room2', room ? String(room.headSeq) : undefined, String(want.headSeq));
    check(i === 0 ? 'history1' : 'history2', history ? `${history.length} messages: ${history.map(messageKey).join('|')}` : undefined, `${want.messages.length} messages: ${want.messages.join('|')}`);
  });
  if (complete) tally.complete++;
  return complete;
}

describe('read models lost with Redis are rebuilt, and no read meanwhile passes a shorter history off as the truth', () => {
  let redis: RedisServer;
  let nodes: NodeHandle[];
  let truth: Truth;
  let watched: [string, string];
  let live: string;
  let user: UserSession;

  beforeAll(async () => {
    const dataDir = freshDataDir();
    const seeded = performance.now();
    const store = createSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
    const expected = createMemoryReadModelStore();
    let roomIds: string[];
    try {
      ({ roomIds } = await seedLog(store, { events: EVENTS, rooms: ROOMS, batch: 500 }));
      // The truth, folded by the same projections in this process.
      for (let after = 0; ; ) {
        const page = await applyNextPage(store, expected, after, 10_000);
        if (page.read === 0) break;
        after = page.position;
      }
    } finally {
      await store.close();
    }
    [live, ...watched] = roomIds.slice(0, 3) as [string, string, string];
    truth = { rooms: (await expected.publicRooms(1_000)).map((r) => r.id), watched: new Map() };
    for (const roomId of watched) {
      const room = (await expected.room(roomId))!;
      truth.watched.set(roomId, { headSeq: room.headSeq, messages: (await expected.messages(roomId, { limit: HISTORY })).map(messageKey) });
    }
    console.log(`seeded ${EVENTS} events in ${ROOMS} rooms in ${Math.round(performance.now() - seeded)} ms`);

    redis = await startRedis();
    const env = { REDIS_URL: redis.url, JWT_SECRET: randomBytes(24).toString('base64url'), RATE_LIMIT_MESSAGES: '0', LOG_LEVEL: 'info' };
    const first = await startNode({ env: { ...env, NODE_ID: 'loss1' }, dataDir });
    nodes = [first, await startNode({ env: { ...env, NODE_ID: 'loss2' }, dataDir })];
    user = await createUser(first.url, 'reader');
    // The first build of the read models, from an empty Redis.
    const builtMs = await recovered(newTally(), 40_000, 'the first build');
    console.log(`read models first built ${builtMs} ms after the nodes started`);
    await joinRoom(nodes[0]!.url, user.token, live);
  }, 120_000);

  afterAll(async () => {
    const problems = problemLines(nodes ?? []);
    if (problems.length) console.log(`log lines at level ≥ 40:\n${problems.join('\n')}`);
    for (const node of nodes ?? []) await node.stop();
  });

  /** One read of everything watched on `node`, judged into `tally`; true when complete. */
  async function readOnce(node: NodeHandle, tally: Tally): Promise<boolean> {
    try {
      const response = await http<ReadData>(node.url, READ, { r1: watched[0], r2: watched[1] }, user.token);
      return judge(tally, nodeId(node), truth, watched, response.data, response.errors);
    } catch (error) {
      const key = `transport: ${(error as Error).message}`;
      tally.errors.set(key, (tally.errors.get(key) ?? 0) + 1);
      return false;
    }
  }

  /** Polls every node until each answers completely (bounded); resolves with how long it took. */
  async function recovered(tally: Tally, timeoutMs: number, label: string): Promise<number> {
    const started = Date.now();
    return eventually(
      async () => {
        const complete = await Promise.all(nodes.map((node) => readOnce(node, tally)));
        return complete.every(Boolean) && Date.now() - started;
      },
      timeoutMs,
      `${label}: complete history and rooms on every node`,
      100,
    );
  }

  /**
   * Sends to the live room on one node, then reads it on the other: the read is either an error
   * or the whole newest history, ending with that message (no history of one message).
   */
  async function sendThenRead(round: number, tally: Tally): Promise<void> {
    const [writer, reader] = round % 2 === 0 ? [nodes[0]!, nodes[1]!] : [nodes[1]!, nodes[0]!];
    const sent = await sendMessage(writer.url, user.token, live, `during the recovery ${round}`, randomUUID());
    const response = await http<{ messages: MessageView[] | null }>(
      reader.url,
      `query($roomId: ID!) { messages(roomId: $roomId, limit: ${HISTORY}) { id seq body deleted } }`,
      { roomId: live },
      user.token,
    );
    if (response.errors?.length) {
      const key = `after a send: ${String(response.errors[0]!.extensions?.code)}: ${response.errors[0]!.message}`;
      tally.errors.set(key, (tally.errors.get(key) ?? 0) + 1);
      return;
    }
    const history = response.data?.messages ?? [];
    // The seeded room has far more than HISTORY messages: anything shorter is a partial history.
    const ok = history.at(-1)?.id === sent.id && history.length === HISTORY;
    if (!ok) tally.wrong.push(`${nodeId(reader)} after a send on ${nodeId(writer)}: ${history.length} messages ending at seq ${history.at(-1)?.seq} (sent seq ${sent.seq})`);
  }

  /** Reads every node in a loop (and sends now and then) until `stop`, tallying what each read got. */
  function pollDuring(tally: Tally): { stop(): Promise<void> } {
    let stopped = false;
    const loop = (async () => {
      for (let round = 0; !stopped; round++) {
        await Promise.all(nodes.map((node) => readOnce(node, tally)));
        if (round % 5 === 0) await sendThenRead(round / 5, tally).catch((error) => tally.errors.set(`send: ${(error as Error).message}`, 1));
        // Under test: a steady stream of reads, about 10 per second per node, through the recovery.
        await sleep(100);
      }
    })();
    return {
      async stop() {
        stopped = true;
        await loop;
      },
    };
  }

  function report(label: string, tally: Tally, ms: number): void {
    const errors = [...tally.errors].map(([key, count]) => `${count}× ${key}`).join('; ');
    console.log(`${label}: complete again after ${ms} ms; ${tally.complete} complete reads, errors: ${errors || 'none'}; wrong: ${tally.wrong.length}`);
  }

  it('Redis killed and restarted without persistence: history and rooms come back complete on both nodes; no short read meanwhile', async () => {
    const tally = newTally();
    const polling = pollDuring(tally);
    await sleep(300);
    await redis.kill();
    await sleep(1_000);
    await redis.restart();
    try {
      const ms = await recovered(tally, 30_000, 'after the Redis restart');
      report('Redis restart', tally, ms);
    } finally {
      await polling.stop();
    }
    expect(tally.wrong.slice(0, 10)).toEqual([]);
  });

  it('FLUSHALL: history and rooms come back complete on both nodes; no short read meanwhile', async () => {
    const tally = newTally();
    const polling = pollDuring(tally);
    const admin = new Redis(redis.url);
    try {
      await sleep(300);
      await admin.flushall();
      const ms = await recovered(tally, 30_000, 'after FLUSHALL');
      report('FLUSHALL', tally, ms);
    } finally {
      admin.disconnect();
      await polling.stop();
    }
    expect(tally.wrong.slice(0, 10)).toEqual([]);
  });
});
