/**
 * Durability of the SQLite store across a hard crash: kill -9 the node, start a new one on the
 * same DATA_DIR, and the history, the log, the sequence numbers and the sessions carry on.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MESSAGE_FIELDS,
  collectRoomEvents,
  createRoom,
  createUser,
  eventually,
  gql,
  joinRoom,
  range,
  readLog,
  roomHead,
  sendMessage,
  sleep,
  trySend,
  wsClient,
  type MessageInfo,
  type RoomEventInfo,
} from '../support/gql.js';
import { killAllNodes, startNode } from '../support/nodeProcess.js';

afterAll(killAllNodes);

const ENV = { EVENT_STORE: 'sqlite', RATE_LIMIT_MESSAGES: '0' };
const full = (e: RoomEventInfo) => JSON.stringify(e);

describe('restart durability (SQLite, kill -9)', () => {
  it('history, log, sessions and seq continue after kill -9 and a restart on the same DATA_DIR', async () => {
    const node = await startNode({ env: ENV });
    const alice = await createUser(node.url, 'alice');
    const bob = await createUser(node.url, 'bob');
    const room = await createRoom(node.url, alice.token, 'durable');
    await joinRoom(node.url, bob.token, room.id);
    const sent: MessageInfo[] = [];
    for (let i = 0; i < 20; i++) sent.push(await sendMessage(node.url, i % 2 ? bob.token : alice.token, room.id, `before the crash ${i}`));
    await gql(node.url, `mutation($id: ID!) { editMessage(messageId: $id, body: "edited before the crash") { id } }`, { id: sent[3]!.id }, bob.token);
    await gql(node.url, `mutation($id: ID!) { deleteMessage(messageId: $id) { id } }`, { id: sent[4]!.id }, alice.token);

    const logBefore = await readLog(node.url, alice.token, room.id);
    const historyQuery = `query($roomId: ID!) { messages(roomId: $roomId, limit: 100) { ${MESSAGE_FIELDS} } }`;
    const historyBefore = await gql<{ messages: MessageInfo[] }>(node.url, historyQuery, { roomId: room.id }, alice.token);
    const head = await roomHead(node.url, alice.token, room.id);
    expect(head).toBe(3 + 20 + 2);

    await node.kill();
    expect(node.process.signalCode).toBe('SIGKILL');

    const restarted = await startNode({ env: ENV, dataDir: node.dataDir });
    const client = wsClient(restarted.wsUrl, bob.token);
    try {
      const replayed = restarted.logs.find((line) => line.includes('replayed the log into the read models'));
      expect(replayed).toBeDefined();
      expect(JSON.parse(replayed!).events).toBeGreaterThanOrEqual(head);

      // The old token still works (the JWT secret lives in DATA_DIR).
      const me = await gql<{ me: { id: string } }>(restarted.url, '{ me { id } }', {}, alice.token);
      expect(me.me.id).toBe(alice.user.id);

      expect(await roomHead(restarted.url, alice.token, room.id)).toBe(head);
      expect((await readLog(restarted.url, alice.token, room.id)).map(full)).toEqual(logBefore.map(full));
      const historyAfter = await gql<{ messages: MessageInfo[] }>(restarted.url, historyQuery, { roomId: room.id }, alice.token);
      expect(historyAfter.messages).toEqual(historyBefore.messages);
      expect(historyAfter.messages.find((m) => m.id === sent[3]!.id)?.body).toBe('edited before the crash');
      expect(historyAfter.messages.find((m) => m.id === sent[4]!.id)).toMatchObject({ deleted: true, body: '' });

      // A subscriber resuming from before the crash sees the old events, then the new one.
      const afterSeq = 7;
      const events = collectRoomEvents(client, room.id, afterSeq);
      await events.waitFor((items) => items.at(-1)?.seq === head, 10_000, 'old events replayed to the subscriber');

      // Seq continues: the next send is head+1; an old clientMessageId is still known.
      const next = await sendMessage(restarted.url, alice.token, room.id, 'after the restart');
      expect(next.seq).toBe(head + 1);
      const resent = await sendMessage(restarted.url, alice.token, room.id, 'resent', sent[0]!.clientMessageId);
      expect(resent).toMatchObject({ id: sent[0]!.id, seq: sent[0]!.seq });

      await events.waitFor((items) => items.at(-1)?.seq === head + 1, 10_000, 'the new event, live');
      // Under test: nothing more (no duplicate of a replayed event) arrives within this window.
      await sleep(300);
      expect(events.items.map((e) => e.seq)).toEqual(range(afterSeq + 1, head + 1));
      expect(events.items.slice(0, head - afterSeq).map(full)).toEqual(logBefore.slice(afterSeq).map(full));
      expect(events.items.at(-1)!.message!.id).toBe(next.id);
    } finally {
      await client.dispose();
      expect.soft(await restarted.stop(), 'exit code after SIGTERM').toBe(0);
    }
  });

  it('a kill -9 in the middle of concurrent sends loses no acknowledged message, and retries do not duplicate', async () => {
    const node = await startNode({ env: ENV });
    const owner = await createUser(node.url, 'owner');
    const room = await createRoom(node.url, owner.token, 'crash mid-flight');
    const senders = await Promise.all(range(1, 3).map((i) => createUser(node.url, `sender-${i}`)));
    for (const s of senders) await joinRoom(node.url, s.token, room.id);

    const acknowledged = new Map<string, MessageInfo>();
    const attempted: Array<{ token: string; clientMessageId: string; body: string }> = [];
    let crashed = false;
    const sending = senders.map(async (sender, s) => {
      for (let i = 0; !crashed && i < 500; i++) {
        const attempt = { token: sender.token, clientMessageId: randomUUID(), body: `sender ${s} message ${i}` };
        attempted.push(attempt);
        try {
          const response = await trySend(node.url, sender.token, room.id, attempt.body, attempt.clientMessageId);
          if (response.data?.sendMessage) acknowledged.set(attempt.clientMessageId, response.data.sendMessage);
        } catch {
          return; // the connection died with the node
        }
      }
    });
    await eventually(() => acknowledged.size >= 60, 30_000, '60 acknowledged sends', 5);
    crashed = true;
    await node.kill();
    await Promise.all(sending);

    const restarted = await startNode({ env: ENV, dataDir: node.dataDir });
    try {
      const log = await readLog(restarted.url, owner.token, room.id);
      const head = await roomHead(restarted.url, owner.token, room.id);
      expect(log.map((e) => e.seq)).toEqual(range(1, head));
      const posted = new Map(log.filter((e) => e.__typename === 'MessagePosted').map((e) => [e.message!.clientMessageId, e]));
      for (const [clientMessageId, message] of acknowledged) {
        expect(posted.get(clientMessageId)?.seq, `acknowledged ${message.body}`).toBe(message.seq);
        expect(posted.get(clientMessageId)?.message?.id).toBe(message.id);
      }

      // Every client retries whatever it attempted; nothing is appended twice.
      const retried = await Promise.all(
        attempted.map((a) => sendMessage(restarted.url, a.token, room.id, a.body, a.clientMessageId)),
      );
      for (const [i, message] of retried.entries()) {
        const before = acknowledged.get(attempted[i]!.clientMessageId);
        if (before) expect({ id: message.id, seq: message.seq }).toEqual({ id: before.id, seq: before.seq });
      }
      const finalLog = await readLog(restarted.url, owner.token, room.id);
      const finalHead = await roomHead(restarted.url, owner.token, room.id);
      expect(finalLog.map((e) => e.seq)).toEqual(range(1, finalHead));
      const ids = finalLog.filter((e) => e.__typename === 'MessagePosted').map((e) => e.message!.clientMessageId);
      expect(ids).toHaveLength(attempted.length);
      expect(new Set(ids).size).toBe(attempted.length);
    } finally {
      expect.soft(await restarted.stop(), 'exit code after SIGTERM').toBe(0);
    }
  });
});
