/**
 * Issue 11, finding 1: the cost limit ignored list sizes. 15 aliases of `roomEvents(limit: 1000)`
 * (a 1.2 KB query) built a 60 MB answer; twelve at once took a node to 2.2 GB and /healthz stopped
 * answering. Now the cost multiplies by each list's size (its `limit`, the default when omitted,
 * the room directory's 500), an answer over MAX_RESPONSE_BYTES is refused, and heavy queries take
 * turns per user and per node. Scaled down: a room of a few hundred 4 KB messages.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRaw, createRoom, createUser, gql, pool, readLog, sendMessage, wsClient, wsExecute, type UserSession } from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes, type InProcessNode } from '../support/inProcessNode.js';
import { killAllNodes, startNode, type NodeHandle } from '../support/nodeProcess.js';
import { outcome, post, tally } from './requests.js';

afterAll(stopAllInProcessNodes);
afterAll(killAllNodes);

const BODY = 'x'.repeat(3_990);
const EVENT_SELECTION = 'seq ... on MessagePosted { message { id body author { id name } } }';

/** `count` aliases of roomEvents(limit) in one query: the attack's shape. */
function aliased(count: number, limit: number | string, field = 'roomEvents', selection = EVENT_SELECTION): string {
  const fields = Array.from({ length: count }, (_, i) => `a${i}: ${field}(roomId: $roomId, limit: ${limit}) { ${selection} }`);
  return `query($roomId: ID!${typeof limit === 'string' ? ', $n: Int' : ''}) { ${fields.join(' ')} }`;
}

async function seedBigRoom(url: string, owner: UserSession, messages: number): Promise<string> {
  const roomId = (await createRoom(url, owner.token, `big ${messages}`)).id;
  await pool(messages, 8, (i) => sendMessage(url, owner.token, roomId, `${i} ${BODY}`));
  return roomId;
}

describe('the cost limit counts list sizes (one node, MAX_RESPONSE_BYTES=1000000)', () => {
  let node: InProcessNode;
  let owner: UserSession;
  let bigRoom: string;

  beforeAll(async () => {
    node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0', MAX_RESPONSE_BYTES: '1000000' } });
    owner = await createUser(node.url, 'owner');
    bigRoom = await seedBigRoom(node.url, owner, 300);
  });

  it('the attack (15 aliases of roomEvents(limit: 1000)) is refused before it runs, with a short BAD_USER_INPUT', async () => {
    const started = performance.now();
    const response = await post(node.url, aliased(15, 1_000), { roomId: bigRoom }, { token: owner.token });
    expect(outcome(response).code).toBe('BAD_USER_INPUT');
    expect(response.errors![0]!.message).toMatch(/could return 45000 objects, over the limit of 5000/);
    expect(response.text.length).toBeLessThan(2_000);
    expect(response.status).toBeLessThan(500);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('a limit passed in a variable counts what the variable says; an omitted limit counts the default', async () => {
    const refused = await post(node.url, aliased(5, '$n'), { roomId: bigRoom, n: 1_000 }, { token: owner.token });
    expect(outcome(refused).code).toBe('BAD_USER_INPUT');
    const small = await post(node.url, aliased(5, '$n'), { roomId: bigRoom, n: 3 }, { token: owner.token });
    expect(outcome(small).code).toBe('');
    expect((small.data as Record<string, unknown[]>).a4).toHaveLength(3);
    // 15 aliases with the default limit (100): 15 × 100 × 3 = 4,500 objects, under the limit.
    const defaults = await post(node.url, aliased(15, 100, 'roomEvents', 'seq').replace(/, limit: 100/g, ''), { roomId: bigRoom }, { token: owner.token });
    expect(outcome(defaults).code).toBe('');
    // The room list counts 500 rooms: each with its presence and who is online is far too much.
    const directory = await post(node.url, '{ rooms { id presence { online { id name } } } }', {}, { token: owner.token });
    expect(outcome(directory).code).toBe('BAD_USER_INPUT');
  });

  it('an answer over MAX_RESPONSE_BYTES is refused with PAYLOAD_TOO_LARGE, over HTTP and over a WebSocket', async () => {
    // 3 × 300 events of ~4 KB: under the cost limit, but ~3.6 MB of answer.
    const query = aliased(3, 300);
    const response = await post(node.url, query, { roomId: bigRoom }, { token: owner.token });
    expect(outcome(response).code).toBe('PAYLOAD_TOO_LARGE');
    expect(response.errors![0]!.message).toMatch(/over the limit of 1000000: ask for fewer items/);
    expect(response.text.length).toBeLessThan(2_000);
    const client = wsClient(node.wsUrl, owner.token);
    try {
      const result = await wsExecute(client, query, { roomId: bigRoom });
      expect(result.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
      // The socket is fine: the next operation is answered.
      expect((await wsExecute<{ me: { id: string } }>(client, '{ me { id } }')).data?.me.id).toBe(owner.user.id);
    } finally {
      await client.dispose();
    }
  });

  it('honest reads still pass: a page of 200 messages, the room list, the whole log by pages of 1,000', async () => {
    const reader = await createUser(node.url, 'reader');
    const quiet = (await createRoom(node.url, reader.token, 'quiet')).id;
    await pool(250, 8, (i) => sendMessage(node.url, reader.token, quiet, `short ${i}`));
    const page = await gql<{ messages: unknown[] }>(
      node.url,
      'query($roomId: ID!) { messages(roomId: $roomId, limit: 200) { id clientMessageId roomId seq body createdAt editedAt deleted author { id name } } }',
      { roomId: quiet },
      reader.token,
    );
    expect(page.messages).toHaveLength(200);
    const rooms = await gql<{ rooms: unknown[] }>(node.url, '{ rooms { id name private headSeq oldestSeq memberCount createdAt } }', {}, reader.token);
    expect(rooms.rooms.length).toBeGreaterThanOrEqual(2);
    expect((await readLog(node.url, reader.token, quiet)).length).toBe(252);
  });

  it('long lists take turns: 12 at once from one user, those past the user budget are RATE_LIMITED at once, others are not slowed', async () => {
    const attacker = await createUser(node.url, 'attacker');
    const bystander = await createUser(node.url, 'bystander');
    // Up to 1,000 events each (cost 1,000; small in fact): 12 of them, in one burst on one socket,
    // so all 12 reach the budget before the first is answered. The user budget (5,000) holds 5.
    const raw = await connectRaw(node.wsUrl);
    try {
      await raw.init(attacker.token);
      const query = aliased(1, 1_000, 'roomEvents', 'seq');
      for (let i = 0; i < 12; i++) raw.send({ id: `h${i}`, type: 'subscribe', payload: { query, variables: { roomId: bigRoom } } });
      const started = performance.now();
      const light = await gql<{ messages: unknown[] }>(node.url, 'query($roomId: ID!) { messages(roomId: $roomId, limit: 20) { id } }', { roomId: bigRoom }, bystander.token);
      const lightMs = performance.now() - started;
      expect(light.messages).toHaveLength(20);
      const answers = new Map<string, { type: string; payload: { data?: unknown; errors?: Array<{ extensions?: { code?: string; retryAfterMs?: number } }> } }>();
      while (answers.size < 12) {
        const message = (await raw.waitForMessage(10_000)) as { id: string; type: string; payload: never };
        if (message.type === 'next') answers.set(message.id, message);
      }
      const codes = [...answers.values()].map((m) => m.payload.errors?.[0]?.extensions?.code ?? '');
      expect(tally(codes)).toEqual({ '': 5, RATE_LIMITED: 7 });
      for (const m of answers.values()) if (m.payload.errors) expect(m.payload.errors[0]!.extensions?.retryAfterMs).toBe(1_000);
      expect(lightMs).toBeLessThan(5_000);
    } finally {
      raw.close();
    }
  });
});

describe('memory during 12 concurrent worst-case queries (a node process)', () => {
  let node: NodeHandle;
  let users: UserSession[];
  let bigRoom: string;

  beforeAll(async () => {
    node = await startNode({ env: { RATE_LIMIT_MESSAGES: '0' }, timeoutMs: 60_000 });
    const owner = await createUser(node.url, 'owner');
    bigRoom = await seedBigRoom(node.url, owner, 600);
    users = await pool(12, 4, (i) => createUser(node.url, `reader ${i}`));
  }, 120_000);

  it('RSS stays within 2× idle, /healthz keeps answering, and every query gets a short, clear answer', async () => {
    const rss = () => Number(/VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${node.process.pid}/status`, 'utf8'))![1]) / 1024;
    // Warm the paths once, so the first heavy query's code loading is not counted as its memory.
    await post(node.url, aliased(1, 50), { roomId: bigRoom }, { token: users[0]!.token });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const idle = rss();
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 25);
    let slowestHealth = 0;
    let healthFailure: string | undefined;
    let probing = true;
    const health = (async () => {
      while (probing && !healthFailure) {
        const t0 = performance.now();
        try {
          const response = await fetch(`${node.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
          if (response.status !== 200) healthFailure = `/healthz answered ${response.status}`;
        } catch (error) {
          healthFailure = `/healthz failed: ${String(error)}`;
        }
        slowestHealth = Math.max(slowestHealth, performance.now() - t0);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      // The attack as sent (refused by the cost limit), and the dearest query the limit lets
      // through, each from 12 users at once, three rounds.
      const worst = `query($roomId: ID!) {
        a: roomEvents(roomId: $roomId, limit: 1000) { seq ... on MessagePosted { message { body } } }
        b: roomEvents(roomId: $roomId, limit: 1000, afterSeq: 300) { seq ... on MessagePosted { message { body } } }
        c: messages(roomId: $roomId, limit: 200) { body author { name } }
      }`;
      const codes: string[] = [];
      for (let round = 0; round < 3; round++) {
        for (const query of [aliased(15, 1_000), worst]) {
          const responses = await Promise.all(users.map((user) => post(node.url, query, { roomId: bigRoom }, { token: user.token })));
          for (const response of responses) {
            codes.push(outcome(response).code);
            expect(response.status).toBeLessThan(500);
            if (response.errors) expect(response.text.length).toBeLessThan(2_000);
          }
        }
      }
      const counts = tally(codes);
      expect(counts.BAD_USER_INPUT).toBe(36);
      expect(Object.keys(counts).every((code) => ['', 'BAD_USER_INPUT', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED'].includes(code))).toBe(true);
    } finally {
      clearInterval(sampler);
      probing = false;
      await health;
    }
    console.log(`queryCost: RSS idle ${idle.toFixed(0)} MB, peak ${peak.toFixed(0)} MB; slowest /healthz ${slowestHealth.toFixed(0)} ms`);
    expect(healthFailure).toBeUndefined();
    expect(peak, `peak RSS ${peak.toFixed(0)} MB against ${idle.toFixed(0)} MB idle`).toBeLessThanOrEqual(2 * idle);
    expect(slowestHealth).toBeLessThan(2_000);
  }, 120_000);
});
