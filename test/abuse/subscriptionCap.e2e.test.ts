/**
 * Issue 11, finding 7: the per-connection subscription cap could be overrun by subscribes sent
 * back to back (169 roomEvents and 430 presence accepted against a cap of 100): the check counted
 * graphql-ws's registry, where a subscription appears only once set up. The slot is now taken
 * when the subscribe arrives, before anything is awaited, and given back when it ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRaw, createRoom, createUser, sendMessage, type RawClient, type UserSession } from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes, type InProcessNode } from '../support/inProcessNode.js';
import { liveSubscriptions, waitFor, waitForSubscriptions } from '../support/signals.js';

afterAll(stopAllInProcessNodes);

const CAP = 5;
const EVENTS = 'subscription($roomId: ID!) { roomEvents(roomId: $roomId) { seq } }';
const PRESENCE = 'subscription($roomId: ID!) { presence(roomId: $roomId) { count } }';

interface Frame {
  id?: string;
  type: string;
  payload?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** Reads frames until `done(frames)` holds (bounded), and returns them all. */
async function readUntil(raw: RawClient, done: (frames: Frame[]) => boolean, timeoutMs = 10_000): Promise<Frame[]> {
  const frames: Frame[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!done(frames)) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms; got ${JSON.stringify(frames.slice(-3))} (${frames.length} frames)`);
    frames.push(...(raw.drain() as Frame[]));
    if (!done(frames)) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return frames;
}

describe(`subscribes sent back to back against MAX_SUBSCRIPTIONS_PER_CONNECTION=${CAP}`, () => {
  let node: InProcessNode;
  let user: UserSession;
  let roomId: string;

  beforeAll(async () => {
    node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0', MAX_SUBSCRIPTIONS_PER_CONNECTION: String(CAP) } });
    user = await createUser(node.url, 'flooder');
    roomId = (await createRoom(node.url, user.token, 'capped')).id;
  });

  it('60 subscribes in one burst (roomEvents and presence): exactly the cap is accepted, the rest refused, the socket stays', async () => {
    const raw = await connectRaw(node.wsUrl);
    try {
      await raw.init(user.token);
      const before = await liveSubscriptions(node.url);
      // One write per frame, all in the same tick: they reach the server together.
      for (let i = 0; i < 30; i++) {
        raw.send({ id: `e${i}`, type: 'subscribe', payload: { query: EVENTS, variables: { roomId } } });
        raw.send({ id: `p${i}`, type: 'subscribe', payload: { query: PRESENCE, variables: { roomId } } });
      }
      const frames = await readUntil(raw, (got) => got.filter((f) => f.type === 'error').length >= 60 - CAP);
      const refused = frames.filter((f) => f.type === 'error');
      expect(refused).toHaveLength(60 - CAP);
      for (const error of refused) {
        expect(error.payload![0]!.extensions?.code).toBe('BAD_USER_INPUT');
        expect(error.payload![0]!.message).toBe(`at most ${CAP} subscriptions at once on one connection`);
      }
      // The ones accepted are live, and no more than the cap.
      await waitForSubscriptions(node.url, before + CAP);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await liveSubscriptions(node.url)).toBe(before + CAP);
      expect(raw.drain().filter((f: Frame) => f.type === 'error')).toEqual([]);

      // The accepted roomEvents subscriptions deliver; completing one frees its slot for a new one.
      const accepted = new Set(['e', 'p'].flatMap((kind) => Array.from({ length: 30 }, (_, i) => `${kind}${i}`)));
      for (const error of refused) accepted.delete(error.id!);
      expect(accepted.size).toBe(CAP);
      const first = [...accepted][0]!;
      raw.send({ id: first, type: 'complete' });
      raw.send({ id: 'late', type: 'subscribe', payload: { query: EVENTS, variables: { roomId } } });
      const sent = await sendMessage(node.url, user.token, roomId, 'to the capped socket');
      const late = await readUntil(raw, (got) => got.some((f) => f.id === 'late'));
      expect(late.find((f) => f.id === 'late')).toMatchObject({ type: 'next', payload: { data: { roomEvents: { seq: sent.seq } } } });
    } finally {
      raw.close();
    }
    // Closing the socket gives every slot back: the node holds none of them any more.
    await waitFor(async () => (await liveSubscriptions(node.url)) === 0 || undefined, 10_000, 'subscriptions released on close');
  });

  it('bursts on several sockets: each socket is capped on its own', async () => {
    const sockets = await Promise.all([connectRaw(node.wsUrl), connectRaw(node.wsUrl), connectRaw(node.wsUrl)]);
    try {
      await Promise.all(sockets.map((raw) => raw.init(user.token)));
      const before = await liveSubscriptions(node.url);
      for (const raw of sockets) {
        for (let i = 0; i < 20; i++) raw.send({ id: `s${i}`, type: 'subscribe', payload: { query: i % 2 ? PRESENCE : EVENTS, variables: { roomId } } });
      }
      for (const raw of sockets) {
        const frames = await readUntil(raw, (got) => got.filter((f) => f.type === 'error').length >= 20 - CAP);
        expect(frames.filter((f) => f.type === 'error')).toHaveLength(20 - CAP);
      }
      await waitForSubscriptions(node.url, before + 3 * CAP);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await liveSubscriptions(node.url)).toBe(before + 3 * CAP);
    } finally {
      for (const raw of sockets) raw.close();
    }
  });
});
