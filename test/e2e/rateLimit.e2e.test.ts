/**
 * Rate limits (API.md): per user; a limited send is a RATE_LIMITED error with
 * extensions.retryAfterMs and a Notice on `notices`; the limit holds across restarts. The limit
 * is a GCRA: a burst of RATE_LIMIT_MESSAGES, then one per window/N.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  SEND_MESSAGE,
  collect,
  createRoom,
  createUser,
  errorCodes,
  joinRoom,
  sendMessage,
  sleep,
  trySend,
  wsClient,
  wsExecute,
  type MessageInfo,
} from '../support/gql.js';
import { killAllNodes, startNode } from '../support/nodeProcess.js';

afterAll(killAllNodes);

interface Notice {
  kind: string;
  message: string;
  until: string | null;
}

describe('the send rate limit', () => {
  it('allows a burst, then refuses with RATE_LIMITED + retryAfterMs and a notice, per user; retries of sent messages still answer', async () => {
    // Burst of 3, then one per second.
    const node = await startNode({ env: { RATE_LIMIT_MESSAGES: '3', RATE_LIMIT_WINDOW_MS: '3000' } });
    const alice = await createUser(node.url, 'alice');
    const bob = await createUser(node.url, 'bob');
    const room = await createRoom(node.url, alice.token, 'limits');
    await joinRoom(node.url, bob.token, room.id);
    const client = wsClient(node.wsUrl, alice.token);
    try {
      const notices = collect<Notice>(client, { query: 'subscription { notices { kind message until } }' }, 'notices');
      await sleep(500); // the notices subscription is live before the first limited send

      const first = await sendMessage(node.url, alice.token, room.id, 'one');
      await sendMessage(node.url, alice.token, room.id, 'two');
      await sendMessage(node.url, alice.token, room.id, 'three');
      const limited = await trySend(node.url, alice.token, room.id, 'four');
      expect(errorCodes(limited)).toEqual(['RATE_LIMITED']);
      const retryAfterMs = limited.errors![0]!.extensions!.retryAfterMs;
      expect(typeof retryAfterMs).toBe('number');
      expect(retryAfterMs).toBeGreaterThan(0);
      expect(retryAfterMs).toBeLessThanOrEqual(3_000);
      expect(limited.data?.sendMessage ?? null).toBeNull();

      await notices.waitFor((items) => items.length >= 1, 5_000, 'a RATE_LIMITED notice');
      expect(notices.items[0]!.kind).toBe('RATE_LIMITED');
      expect(notices.items[0]!.message.length).toBeGreaterThan(0);
      expect(Date.parse(notices.items[0]!.until!)).toBeGreaterThan(Date.now() - 5_000);

      // Over WebSocket the same error, same extensions.
      const overWs = await wsExecute<{ sendMessage: MessageInfo }>(client, SEND_MESSAGE, { roomId: room.id, body: 'five', clientMessageId: randomUUID() });
      expect(errorCodes(overWs.errors)).toEqual(['RATE_LIMITED']);
      expect(overWs.errors![0]!.extensions!.retryAfterMs).toBeGreaterThan(0);

      // Another user is not limited by alice's sends.
      expect(errorCodes(await trySend(node.url, bob.token, room.id, 'bob is fine'))).toEqual([]);

      // A retry of a message that went through is answered with the original, limited or not.
      const retried = await trySend(node.url, alice.token, room.id, 'one', first.clientMessageId);
      expect(retried.errors, retried.text).toBeUndefined();
      expect(retried.data!.sendMessage).toMatchObject({ id: first.id, seq: first.seq });

      // After retryAfterMs one more send goes through, and the next one is limited again.
      const again = await trySend(node.url, alice.token, room.id, 'later');
      const wait = again.errors?.[0]?.extensions?.retryAfterMs ?? 0;
      await sleep(wait + 100);
      expect(errorCodes(await trySend(node.url, alice.token, room.id, 'after waiting'))).toEqual([]);
      expect(errorCodes(await trySend(node.url, alice.token, room.id, 'too soon'))).toEqual(['RATE_LIMITED']);
    } finally {
      await client.dispose();
      expect(await node.stop()).toBe(0);
    }
  });

  it('holds across a restart (kill -9) of the node', async () => {
    const env = { EVENT_STORE: 'sqlite', RATE_LIMIT_MESSAGES: '3', RATE_LIMIT_WINDOW_MS: '120000' };
    const node = await startNode({ env });
    const alice = await createUser(node.url, 'alice');
    const room = await createRoom(node.url, alice.token, 'limits survive');
    for (const body of ['one', 'two', 'three']) await sendMessage(node.url, alice.token, room.id, body);
    expect(errorCodes(await trySend(node.url, alice.token, room.id, 'four'))).toEqual(['RATE_LIMITED']);
    await node.kill();

    const restarted = await startNode({ env, dataDir: node.dataDir });
    try {
      const response = await trySend(restarted.url, alice.token, room.id, 'four, after the restart');
      expect(errorCodes(response), response.text).toEqual(['RATE_LIMITED']);
      expect(response.errors![0]!.extensions!.retryAfterMs).toBeGreaterThan(30_000);
    } finally {
      expect(await restarted.stop()).toBe(0);
    }
  });
});
