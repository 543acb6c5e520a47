/**
 * Rate limits (docs/api.md): per user; a limited send is a RATE_LIMITED error with
 * extensions.retryAfterMs and a Notice on `notices`; the limit holds across restarts. The limit
 * is a GCRA: a burst of RATE_LIMIT_MESSAGES, then one per window/N.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEND_MESSAGE,
  collect,
  createRoom,
  createUser,
  errorCodes,
  joinRoom,
  sleep,
  trySend,
  wsClient,
  wsExecute,
  type MessageInfo,
} from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import { killAllNodes, startNode, type ServerHandle } from '../support/nodeProcess.js';
import { liveSubscriptions, waitForSubscriptions } from '../support/signals.js';

afterAll(killAllNodes);
afterAll(stopAllInProcessNodes);

interface Notice {
  kind: string;
  message: string;
  until: string | null;
}

const N = 3;
const WINDOW_MS = 3_000;
const INTERVAL_MS = WINDOW_MS / N;

/** Sends until one is refused (at most `max` tries); returns the accepted messages and the refusal. */
async function sendUntilLimited(url: string, token: string, roomId: string, max = N + 1) {
  const accepted: MessageInfo[] = [];
  for (let i = 0; i < max; i++) {
    const response = await trySend(url, token, roomId, `message ${i}`);
    if (response.errors) return { accepted, refused: response };
    accepted.push(response.data!.sendMessage);
  }
  throw new Error(`${max} sends in a row were all accepted`);
}

describe('the send rate limit (burst of N, then one per window/N)', () => {
  let node: ServerHandle;
  let roomId: string;

  beforeAll(async () => {
    node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: String(N), RATE_LIMIT_WINDOW_MS: String(WINDOW_MS) } });
    const owner = await createUser(node.url, 'owner');
    roomId = (await createRoom(node.url, owner.token, 'limits')).id;
  });

  afterAll(async () => {
    expect(await node?.stop()).toBe(0);
  });

  const member = async (name: string) => {
    const user = await createUser(node.url, name);
    await joinRoom(node.url, user.token, roomId);
    return user;
  };

  it(`accepts a burst of exactly N=${N} sends and refuses the next with RATE_LIMITED`, async () => {
    const alice = await member('alice');
    const codes: string[][] = [];
    for (let i = 0; i < N + 1; i++) codes.push(errorCodes(await trySend(node.url, alice.token, roomId, `burst ${i}`)));
    expect(codes).toEqual([...Array.from({ length: N }, () => []), ['RATE_LIMITED']]);
  });

  it('a refused send carries retryAfterMs, the user gets a RATE_LIMITED notice, and other users are unaffected', async () => {
    const alice = await member('alice-2');
    const bob = await member('bob');
    const client = wsClient(node.wsUrl, alice.token);
    try {
      const before = await liveSubscriptions(node.url);
      const notices = collect<Notice>(client, { query: 'subscription { notices { kind message until } }' }, 'notices');
      await waitForSubscriptions(node.url, before + 1); // the notices subscription is live before the first refused send

      const { accepted, refused } = await sendUntilLimited(node.url, alice.token, roomId);
      expect(accepted.length).toBeGreaterThanOrEqual(1);
      expect(errorCodes(refused)).toEqual(['RATE_LIMITED']);
      const retryAfterMs = refused.errors![0]!.extensions!.retryAfterMs;
      expect(typeof retryAfterMs).toBe('number');
      expect(retryAfterMs).toBeGreaterThan(0);
      expect(retryAfterMs).toBeLessThanOrEqual(WINDOW_MS);
      expect(refused.data?.sendMessage ?? null).toBeNull();

      await notices.waitFor((items) => items.length >= 1, 5_000, 'a RATE_LIMITED notice');
      expect(notices.items[0]!.kind).toBe('RATE_LIMITED');
      expect(notices.items[0]!.message.length).toBeGreaterThan(0);
      expect(Date.parse(notices.items[0]!.until!)).toBeGreaterThan(Date.now() - 5_000);

      // Over WebSocket: the same error with the same extensions.
      const overWs = await wsExecute<{ sendMessage: MessageInfo }>(client, SEND_MESSAGE, { roomId, body: 'over ws', clientMessageId: randomUUID() });
      expect(errorCodes(overWs.errors)).toEqual(['RATE_LIMITED']);
      expect(overWs.errors![0]!.extensions!.retryAfterMs).toBeGreaterThan(0);

      // Another user is not limited by alice's sends.
      expect(errorCodes(await trySend(node.url, bob.token, roomId, 'bob is fine'))).toEqual([]);

      // A retry of a message that went through is answered with the original, limited or not.
      const first = accepted[0]!;
      const retried = await trySend(node.url, alice.token, roomId, first.body, first.clientMessageId);
      expect(retried.errors, retried.text).toBeUndefined();
      expect(retried.data!.sendMessage).toMatchObject({ id: first.id, seq: first.seq });
    } finally {
      await client.dispose();
    }
  });

  it(`after retryAfterMs one more send goes through, and the next waits at most window/N = ${INTERVAL_MS} ms`, async () => {
    const alice = await member('alice-3');
    const { refused } = await sendUntilLimited(node.url, alice.token, roomId);
    // Under test: the time the server asked for passing (plus a margin) lets one more send through.
    await sleep(refused.errors![0]!.extensions!.retryAfterMs! + 100);
    const after = await trySend(node.url, alice.token, roomId, 'after waiting');
    expect(after.errors, after.text).toBeUndefined();
    const tooSoon = await trySend(node.url, alice.token, roomId, 'too soon');
    expect(errorCodes(tooSoon)).toEqual(['RATE_LIMITED']);
    expect(tooSoon.errors![0]!.extensions!.retryAfterMs, tooSoon.text).toBeLessThanOrEqual(INTERVAL_MS);
  });
});

// A real process: what is under test is a node killed with SIGKILL, mid-window.
describe('the rate limit across restarts', () => {
  it('holds after the node is killed (kill -9) and restarted on the same data: at most N sends per window in all', async () => {
    const env = { EVENT_STORE: 'sqlite', RATE_LIMIT_MESSAGES: String(N), RATE_LIMIT_WINDOW_MS: '120000' };
    const node = await startNode({ env });
    const alice = await createUser(node.url, 'alice');
    const room = await createRoom(node.url, alice.token, 'limits survive');
    const before = await sendUntilLimited(node.url, alice.token, room.id);
    expect(before.accepted.length).toBeGreaterThanOrEqual(1);
    expect(errorCodes(before.refused)).toEqual(['RATE_LIMITED']);
    await node.kill();

    const restarted = await startNode({ env, dataDir: node.dataDir });
    try {
      const after = await sendUntilLimited(restarted.url, alice.token, room.id);
      expect(errorCodes(after.refused), after.refused.text).toEqual(['RATE_LIMITED']);
      expect(after.refused.errors![0]!.extensions!.retryAfterMs).toBeGreaterThan(30_000);
      // A limiter that forgot on restart would accept another full burst here.
      expect(before.accepted.length + after.accepted.length, 'sends accepted within one window, across the restart').toBeLessThanOrEqual(N);
    } finally {
      expect.soft(await restarted.stop(), 'exit code after SIGTERM').toBe(0);
    }
  });
});
