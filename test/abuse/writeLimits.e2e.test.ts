/**
 * Issue 11, finding 2: only sendMessage was limited and sessions were free (1,000 edits of 4 KB in
 * 3.9 s, 500 createSession in under a second, join/leave spam kept in the log for good). Every write
 * is now limited per user, and session and room creation per client address; a limited write is
 * RATE_LIMITED with retryAfterMs plus a Notice, other users are untouched, the limits are shared
 * through Redis, and RATE_LIMIT_MESSAGES=0 still turns every one of them off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { collect, createRoom, createUser, errorCodes, joinRoom, readLog, sendMessage, trySend, wsClient, type UserSession } from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes, type InProcessNode } from '../support/inProcessNode.js';
import { startRedis, stopAllRedis } from '../support/redisServer.js';
import { liveSubscriptions, waitForSubscriptions } from '../support/signals.js';
import { killAllBalancers, startBalancer } from '../support/balancerProcess.js';
import { CREATE_ROOM, CREATE_SESSION, DELETE, EDIT, JOIN, LEAVE, TYPING, outcome, post, tally } from './requests.js';

afterAll(stopAllRedis);
afterAll(killAllBalancers);
afterAll(stopAllInProcessNodes);

/** Small budgets, so each attack is refused within a few requests. */
const SMALL = {
  RATE_LIMIT_EDITS: '5/1m',
  RATE_LIMIT_DELETES: '5/1m',
  RATE_LIMIT_JOINS: '4/1m',
  RATE_LIMIT_ROOMS: '3/1m',
  RATE_LIMIT_TYPING: '6/1m',
  RATE_LIMIT_SESSIONS_PER_ADDRESS: '10/1m',
  RATE_LIMIT_ROOMS_PER_ADDRESS: '8/1m',
};

describe('every write is limited per user (one node, small budgets)', () => {
  let node: InProcessNode;
  let owner: UserSession;
  let roomId: string;

  beforeAll(async () => {
    node = await startInProcessNode({ env: SMALL });
    owner = await createUser(node.url, 'owner');
    roomId = (await createRoom(node.url, owner.token, 'limited')).id;
  });

  it('a flood of 4 KB edits: the burst goes through, the rest is RATE_LIMITED with retryAfterMs, and a notice says so', async () => {
    const abuser = await createUser(node.url, 'editor');
    await joinRoom(node.url, abuser.token, roomId);
    const message = await sendMessage(node.url, abuser.token, roomId, 'first draft');
    const client = wsClient(node.wsUrl, abuser.token);
    try {
      const before = await liveSubscriptions(node.url);
      const notices = collect<{ kind: string; message: string }>(client, { query: 'subscription { notices { kind message until } }' }, 'notices');
      await waitForSubscriptions(node.url, before + 1);
      const body = 'x'.repeat(3_990); // about 4 KB, under MAX_BODY_CHARS
      const results = [];
      for (let i = 0; i < 40; i++) results.push(outcome(await post(node.url, EDIT, { messageId: message.id, body: `${i}${body}` }, { token: abuser.token })));
      expect(tally(results.map((r) => r.code))).toEqual({ '': 5, RATE_LIMITED: 35 });
      for (const refused of results.filter((r) => r.code)) {
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
      }
      await notices.waitFor((items) => items.length > 0, 5_000, 'a RATE_LIMITED notice');
      expect(notices.items[0]!.kind).toBe('RATE_LIMITED');
      // The log holds the burst only.
      const edits = (await readLog(node.url, owner.token, roomId)).filter((e) => e.__typename === 'MessageEdited');
      expect(edits).toHaveLength(5);
      // Others are not limited by the abuser's edits: the owner still edits and sends.
      const own = await sendMessage(node.url, owner.token, roomId, 'owner here');
      expect(outcome(await post(node.url, EDIT, { messageId: own.id, body: 'owner edited' }, { token: owner.token })).code).toBe('');
    } finally {
      await client.dispose();
    }
  });

  it('deletes are limited too', async () => {
    const abuser = await createUser(node.url, 'deleter');
    await joinRoom(node.url, abuser.token, roomId);
    const messages = [];
    for (let i = 0; i < 8; i++) messages.push(await sendMessage(node.url, abuser.token, roomId, `to delete ${i}`));
    const codes = [];
    for (const m of messages) codes.push(outcome(await post(node.url, DELETE, { messageId: m.id }, { token: abuser.token })).code);
    expect(tally(codes)).toEqual({ '': 5, RATE_LIMITED: 3 });
  });

  it('join/leave spam: a small burst, then RATE_LIMITED; the log keeps only the burst', async () => {
    const spammer = await createUser(node.url, 'door');
    const joins = [];
    const leaves = [];
    for (let i = 0; i < 10; i++) {
      joins.push(outcome(await post(node.url, JOIN, { roomId }, { token: spammer.token })).code);
      leaves.push(outcome(await post(node.url, LEAVE, { roomId }, { token: spammer.token })).code);
    }
    // Two joins and two leaves make the burst of 4; every join after it is refused (and a leave
    // from outside the room is a no-op, never refused).
    expect(tally(joins)).toEqual({ '': 2, RATE_LIMITED: 8 });
    expect(tally(leaves)).toEqual({ '': 10 });
    const trail = (await readLog(node.url, owner.token, roomId)).filter((e) => e.user?.id === spammer.user.id);
    expect(trail.map((e) => e.__typename)).toEqual(['MemberJoined', 'MemberLeft', 'MemberJoined', 'MemberLeft']);
  });

  it('a join or leave that changes nothing is not counted (the web client joins every room it opens)', async () => {
    const member = await createUser(node.url, 'regular');
    await joinRoom(node.url, member.token, roomId);
    for (let i = 0; i < 10; i++) expect(outcome(await post(node.url, JOIN, { roomId }, { token: member.token })).code).toBe('');
  });

  it('room creation per user, and typing', async () => {
    const maker = await createUser(node.url, 'maker');
    const made = [];
    for (let i = 0; i < 5; i++) made.push(outcome(await post(node.url, CREATE_ROOM, { name: `room ${i}` }, { token: maker.token })).code);
    expect(tally(made)).toEqual({ '': 3, RATE_LIMITED: 2 });

    const typist = await createUser(node.url, 'typist');
    await joinRoom(node.url, typist.token, roomId);
    const typed = [];
    for (let i = 0; i < 10; i++) typed.push(outcome(await post(node.url, TYPING, { roomId, typing: i % 2 === 0 }, { token: typist.token })).code);
    expect(tally(typed)).toEqual({ '': 6, RATE_LIMITED: 4 });
  });
});

describe('session and room creation are limited per client address', () => {
  it('a burst of createSession from one address is cut off; X-Forwarded-For from an untrusted peer changes nothing', async () => {
    const node = await startInProcessNode({ env: { ...SMALL, TRUST_PROXY: 'none' } });
    const codes = [];
    for (let i = 0; i < 30; i++) {
      const spoof = { 'x-forwarded-for': `203.0.113.${i}` };
      codes.push(outcome(await post(node.url, CREATE_SESSION, { name: `bot ${i}` }, { headers: spoof })).code);
    }
    expect(tally(codes)).toEqual({ '': 10, RATE_LIMITED: 20 });
    const refused = await post(node.url, CREATE_SESSION, { name: 'one more' });
    expect(refused.errors![0]!.extensions!.retryAfterMs).toBeGreaterThan(0);
    await node.stop();
  });

  it('behind a trusted proxy, each forwarded address has its own budget; room creation per address too', async () => {
    const node = await startInProcessNode({ env: { ...SMALL, TRUST_PROXY: 'loopback' } });
    const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });
    const first = [];
    for (let i = 0; i < 12; i++) first.push(outcome(await post(node.url, CREATE_SESSION, { name: `a${i}` }, from('198.51.100.7'))).code);
    expect(tally(first)).toEqual({ '': 10, RATE_LIMITED: 2 });
    // Another client of the same proxy is not affected.
    expect(outcome(await post(node.url, CREATE_SESSION, { name: 'b' }, from('198.51.100.8'))).code).toBe('');

    // Rooms per address: many users (each under their own budget of 3) from one address.
    const codes = [];
    for (let u = 0; u < 4; u++) {
      const user = await post<{ createSession: UserSession }>(node.url, CREATE_SESSION, { name: `maker ${u}` }, from('198.51.100.9'));
      for (let r = 0; r < 3; r++) {
        codes.push(outcome(await post(node.url, CREATE_ROOM, { name: `r${u}.${r}` }, { token: user.data!.createSession.token, ...from('198.51.100.9') })).code);
      }
    }
    expect(tally(codes)).toEqual({ '': 8, RATE_LIMITED: 4 });
    await node.stop();
  });

  it('through the project balancer: the node limits by the address the balancer forwards', async () => {
    const node = await startInProcessNode({ env: { ...SMALL, TRUST_PROXY: '127.0.0.1' } });
    const balancer = await startBalancer({ env: { BACKENDS: node.url, WORKERS: '1' } });
    await balancer.waitForBackends((list) => list.some((b) => b.ready), 10_000, 'the node in rotation');
    const codes = (count: number, localAddress: string) =>
      Promise.all(Array.from({ length: count }, (_, i) => post(balancer.url, CREATE_SESSION, { name: `via ${i}` }, { localAddress }).then((r) => outcome(r).code)));
    expect(tally(await codes(12, '127.0.0.2'))).toEqual({ '': 10, RATE_LIMITED: 2 });
    // A client from another address, through the same balancer, has its own budget.
    expect(tally(await codes(5, '127.0.0.3'))).toEqual({ '': 5 });
    await balancer.stop();
    await node.stop();
  });
});

describe('shared between nodes', () => {
  it('two nodes on one Redis share one budget per user and per address', async () => {
    const redis = await startRedis();
    const env = { ...SMALL, REDIS_URL: redis.url, JWT_SECRET: randomBytes(24).toString('base64url'), TRUST_PROXY: 'none' };
    const a = await startInProcessNode({ env: { ...env, NODE_ID: 'wl-a' } });
    const b = await startInProcessNode({ env: { ...env, NODE_ID: 'wl-b' }, dataDir: a.dataDir });
    const sessions = [];
    for (let i = 0; i < 14; i++) sessions.push(outcome(await post(i % 2 ? a.url : b.url, CREATE_SESSION, { name: `s${i}` })).code);
    expect(tally(sessions)).toEqual({ '': 10, RATE_LIMITED: 4 });

    // Per user, across nodes. (This address's session budget is spent above: the user's session
    // comes from another local address.)
    const user = await createUserDirect(a);
    const room = (await post<{ createRoom: { id: string } }>(a.url, CREATE_ROOM, { name: 'shared' }, { token: user.token })).data!.createRoom;
    const message = await sendMessage(a.url, user.token, room.id, 'to edit');
    const edits = [];
    for (let i = 0; i < 8; i++) edits.push(outcome(await post(i % 2 ? a.url : b.url, EDIT, { messageId: message.id, body: `v${i}` }, { token: user.token })).code);
    expect(tally(edits)).toEqual({ '': 5, RATE_LIMITED: 3 });
    await b.stop();
    await a.stop();
  });
});

describe('RATE_LIMIT_MESSAGES=0 turns every limit off', () => {
  it('per user and per address: nothing is refused', async () => {
    const node = await startInProcessNode({ env: { ...SMALL, RATE_LIMIT_MESSAGES: '0' } });
    const codes = [];
    for (let i = 0; i < 30; i++) codes.push(outcome(await post(node.url, CREATE_SESSION, { name: `load ${i}` })).code);
    const user = await createUser(node.url, 'bench');
    for (let i = 0; i < 10; i++) codes.push(outcome(await post(node.url, CREATE_ROOM, { name: `bench ${i}` }, { token: user.token })).code);
    const room = await createRoom(node.url, user.token, 'bench room');
    const message = await sendMessage(node.url, user.token, room.id, 'v0');
    for (let i = 0; i < 20; i++) codes.push(outcome(await post(node.url, EDIT, { messageId: message.id, body: `v${i + 1}` }, { token: user.token })).code);
    for (let i = 0; i < 20; i++) codes.push(outcome(await post(node.url, TYPING, { roomId: room.id, typing: true }, { token: user.token })).code);
    for (let i = 0; i < 30; i++) codes.push(errorCodes(await trySend(node.url, user.token, room.id, `m${i}`)).join());
    expect(tally(codes)).toEqual({ '': codes.length });
    await node.stop();
  });
});

/** A session made on a node whose per-address session budget may be spent: from another local address. */
async function createUserDirect(node: InProcessNode): Promise<UserSession> {
  const response = await post<{ createSession: UserSession }>(node.url, CREATE_SESSION, { name: 'direct' }, { localAddress: '127.0.0.5' });
  if (!response.data) throw new Error(response.text);
  return response.data.createSession;
}
