/**
 * Slow consumers: a WebSocket whose unsent data passes MAX_SOCKET_BUFFER_BYTES is closed with 4008
 * ("slow consumer: reconnect and resume with afterSeq"). What it did get is a gap-free prefix, the
 * other subscribers are not held back, and resuming with afterSeq delivers exactly the rest.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import {
  ROOM_EVENTS_SUBSCRIPTION,
  collect,
  collectRoomEvents,
  connectRaw,
  createRoom,
  createUser,
  pool,
  range,
  roomHead,
  sendMessage,
  sleep,
  wsClient,
  type RoomEventInfo,
} from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';

afterAll(stopAllInProcessNodes);

const BODY = 'x'.repeat(3_000);
/**
 * Upper bound on sends (~12 MB of events). The kernel's socket buffers absorb a lot before the
 * server's own buffer grows (on loopback with a 4 MiB tcp_wmem maximum, about 1,200 of these
 * messages); the loop stops as soon as the server gives up on the socket.
 */
const MAX_SENDS = 4_000;

interface Presence {
  online: Array<{ id: string }>;
}

describe('a slow consumer', () => {
  it('is closed with 4008 after a gap-free prefix, does not slow the others, and resumes with afterSeq without loss', async () => {
    const node = await startInProcessNode({ env: { MAX_SOCKET_BUFFER_BYTES: '65536', RATE_LIMIT_MESSAGES: '0' } });
    const sender = await createUser(node.url, 'sender');
    const slowUser = await createUser(node.url, 'slow');
    const normalUser = await createUser(node.url, 'normal');
    const room = await createRoom(node.url, sender.token, 'firehose');
    const start = await roomHead(node.url, sender.token, room.id);

    const raw = await connectRaw(node.wsUrl);
    const normal = wsClient(node.wsUrl, normalUser.token);
    const watcher = wsClient(node.wsUrl, sender.token);
    const resumedClient = wsClient(node.wsUrl, slowUser.token);
    try {
      await raw.init(slowUser.token);
      raw.send({ id: 'slow', type: 'subscribe', payload: { query: ROOM_EVENTS_SUBSCRIPTION, variables: { roomId: room.id, afterSeq: start } } });
      const normalEvents = collectRoomEvents(normal, room.id, start);
      const presence = collect<Presence>(watcher, { query: 'subscription($roomId: ID!) { presence(roomId: $roomId) { online { id } } }', variables: { roomId: room.id } }, 'presence');
      const slowOnline = (items: Presence[]) => items.at(-1)?.online.some((u) => u.id === slowUser.user.id) ?? false;
      await presence.waitFor(slowOnline, 10_000, 'the slow client is online');

      // The subscription is live: the first message reaches the raw client.
      const warmup = await sendMessage(node.url, sender.token, room.id, 'warm-up');
      const first = (await raw.waitForMessage(10_000)) as { id: string; type: string; payload: { data: { roomEvents: RoomEventInfo } } };
      expect(first).toMatchObject({ id: 'slow', type: 'next' });
      expect(first.payload.data.roomEvents.seq).toBe(warmup.seq);

      // Stop reading: the server's unsent data for this socket can only grow.
      const tcp = (raw.ws as unknown as { _socket: Socket })._socket;
      tcp.pause();

      // Send large messages until the server gives up on the slow socket (it stops following the
      // room, so it goes offline), with a hard cap in case it never says so.
      let sent = 0;
      await pool(MAX_SENDS, 4, async () => {
        if (!slowOnline(presence.items)) return;
        await sendMessage(node.url, sender.token, room.id, BODY);
        sent++;
      });
      // More after the cut-off: these only the resumed subscription can deliver.
      for (let i = 0; i < 20; i++) await sendMessage(node.url, sender.token, room.id, `after the cut-off ${i}`);
      const head = await roomHead(node.url, sender.token, room.id);

      await presence.waitFor((items) => !slowOnline(items), 5_000, `the server gives up on the slow socket (after ${sent} large messages)`);

      // The normal subscriber got everything meanwhile.
      await normalEvents.waitFor((items) => items.at(-1)?.seq === head, 30_000, 'normal subscriber reaches the head');

      // Read again: whatever was buffered arrives, then the 4008 close.
      tcp.resume();
      const closed = await raw.waitForClose(30_000);
      expect(closed, `after ${sent} large messages`).toEqual({ code: 4008, reason: 'slow consumer: reconnect and resume with afterSeq' });
      const got = raw
        .drain()
        .filter((m: { type?: string }) => m.type === 'next')
        .map((m: { payload: { data: { roomEvents: RoomEventInfo } } }) => m.payload.data.roomEvents.seq);
      const received = [warmup.seq, ...got];
      const lastSeq = received.at(-1)!;
      expect(received, 'the slow client got a gap-free prefix').toEqual(range(start + 1, lastSeq));
      expect(lastSeq).toBeLessThan(head);

      // Resume where it left off: exactly the rest.
      const rest = collectRoomEvents(resumedClient, room.id, lastSeq);
      await rest.waitFor((items) => items.at(-1)?.seq === head, 30_000, 'resumed subscription reaches the head');
      // Under test: nothing beyond the head (no duplicate) arrives within this window.
      await sleep(300);
      expect(rest.items.map((e) => e.seq)).toEqual(range(lastSeq + 1, head));

      expect(normalEvents.items.map((e) => e.seq)).toEqual(range(start + 1, head));
      expect(normalEvents.error).toBeUndefined();
    } finally {
      raw.close();
      await Promise.all([normal.dispose(), watcher.dispose(), resumedClient.dispose()]);
      expect.soft(await node.stop(), 'exit code after SIGTERM').toBe(0);
    }
  }, 120_000);
});
