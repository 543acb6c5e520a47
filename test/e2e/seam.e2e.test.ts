/**
 * The gap-free subscription guarantee at its hardest point: clients subscribe with
 * `afterSeq = the last seq they read` while other clients are sending, so the catch-up from the
 * log and the live feed overlap. Each subscriber must get exactly afterSeq+1..head, ascending,
 * once each, and the same events the log holds.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import {
  collectRoomEvents,
  createRoom,
  createUser,
  eventually,
  joinRoom,
  range,
  readLog,
  roomHead,
  sendMessage,
  sleep,
  wsClient,
  type Collected,
  type RoomEventInfo,
} from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';

afterAll(stopAllInProcessNodes);

const SENDERS = 3;
const PER_SENDER = 70;
/** Each subscriber starts once this many sends have been acknowledged. */
const START_AFTER = [0, 40, 90, 140, 190];

interface Subscriber {
  afterSeq: number;
  /** Sends acknowledged when it subscribed: below the total means it joined mid-stream. */
  acknowledgedAtStart: number;
  client: Client;
  events: Collected<RoomEventInfo>;
}

const seqs = (events: RoomEventInfo[]) => events.map((e) => e.seq);
const summary = (e: RoomEventInfo) => `${e.seq}:${e.__typename}:${e.message?.id ?? e.user?.id ?? ''}`;

describe.each(['sqlite', 'memory'])('the seam between catch-up and live (EVENT_STORE=%s)', (store) => {
  it('every late subscriber gets exactly afterSeq+1..head, ascending, no duplicate, while others send', async () => {
    const node = await startInProcessNode({ env: { EVENT_STORE: store, RATE_LIMIT_MESSAGES: '0' } });
    const owner = await createUser(node.url, 'owner');
    const room = await createRoom(node.url, owner.token, 'seam');
    const senders = await Promise.all(range(1, SENDERS).map((i) => createUser(node.url, `sender-${i}`)));
    for (const s of senders) await joinRoom(node.url, s.token, room.id);

    const clients: Client[] = [];
    try {
      let acknowledged = 0;
      const sending = Promise.all(
        senders.map(async (sender, s) => {
          for (let i = 0; i < PER_SENDER; i++) {
            await sendMessage(node.url, sender.token, room.id, `sender ${s} message ${i}`);
            acknowledged++;
          }
        }),
      );

      const subscribing = Promise.all(
        START_AFTER.map(async (threshold, i): Promise<Subscriber> => {
          await eventually(() => acknowledged >= threshold, 30_000, `subscriber ${i} start`, 5);
          const reader = await createUser(node.url, `reader-${i}`);
          const log = await readLog(node.url, reader.token, room.id);
          const afterSeq = log.at(-1)!.seq;
          const client = wsClient(node.wsUrl, reader.token);
          clients.push(client);
          return { afterSeq, acknowledgedAtStart: acknowledged, client, events: collectRoomEvents(client, room.id, afterSeq) };
        }),
      );

      // A client that drops its connection half way and reconnects with the last seq it saw.
      const reconnecting = (async () => {
        const reader = await createUser(node.url, 'reconnecting');
        const first = wsClient(node.wsUrl, reader.token);
        clients.push(first);
        const before = collectRoomEvents(first, room.id, 0);
        await before.waitFor((items) => items.length >= 60, 30_000, 'reconnecting client, first connection');
        // What this client has seen is what it resumes from; whatever is still in flight on the
        // dropped connection is, from its point of view, lost.
        const seen = [...before.items];
        await first.dispose();
        const lastSeen = seen.at(-1)!.seq;
        // Part of the scenario: away for a moment while the sends go on.
        await sleep(50);
        const second = wsClient(node.wsUrl, reader.token);
        clients.push(second);
        return { before: seen, lastSeen, after: collectRoomEvents(second, room.id, lastSeen) };
      })();

      await sending;
      const subscribers = await subscribing;
      const resumed = await reconnecting;
      const head = await roomHead(node.url, owner.token, room.id);
      expect(head).toBe(2 + SENDERS + SENDERS * PER_SENDER); // RoomCreated, 4 joins, the messages

      // The subscribers really did start at different points of the stream.
      const starts = subscribers.map((s) => s.afterSeq);
      expect(new Set(starts).size).toBeGreaterThanOrEqual(4);
      expect(subscribers.filter((s) => s.acknowledgedAtStart < SENDERS * PER_SENDER).length, 'subscribed while sends were in flight').toBeGreaterThanOrEqual(3);

      for (const [i, sub] of subscribers.entries()) {
        await sub.events.waitFor((items) => (items.at(-1)?.seq ?? sub.afterSeq) >= head, 30_000, `subscriber ${i} reaches head ${head}`);
      }
      await resumed.after.waitFor((items) => (items.at(-1)?.seq ?? resumed.lastSeen) >= head, 30_000, 'reconnected client reaches head');
      // Under test: anything late (a duplicate after the head) would show up within this window.
      await sleep(500);

      const log = await readLog(node.url, owner.token, room.id);
      expect(seqs(log)).toEqual(range(1, head));
      for (const [i, sub] of subscribers.entries()) {
        expect(seqs(sub.events.items), `subscriber ${i} (afterSeq ${sub.afterSeq})`).toEqual(range(sub.afterSeq + 1, head));
        expect(sub.events.items.map(summary), `subscriber ${i} sees what the log holds`).toEqual(log.slice(sub.afterSeq).map(summary));
        expect(sub.events.error).toBeUndefined();
      }
      const whole = [...resumed.before, ...resumed.after.items];
      expect(seqs(whole), 'reconnected client: both connections together').toEqual(range(1, head));
      expect(whole.map(summary)).toEqual(log.map(summary));

      // Every message every sender sent is in the log exactly once.
      const bodies = log.filter((e) => e.__typename === 'MessagePosted').map((e) => e.message!.body);
      expect(bodies).toHaveLength(SENDERS * PER_SENDER);
      expect(new Set(bodies).size).toBe(SENDERS * PER_SENDER);
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
      expect.soft(await node.stop(), 'exit code after SIGTERM').toBe(0);
    }
  });
});
