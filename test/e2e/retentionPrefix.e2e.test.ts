import { afterAll, describe, expect, it } from 'vitest';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import { collectRoomEvents, createRoom, createUser, errorCodes, eventually, gql, http, joinRoom, readLog, sendMessage, wsClient } from '../support/gql.js';

afterAll(stopAllInProcessNodes);

/*
 * Retention on a store that drops a stream's whole prefix, as EventStoreDB does with $maxCount and
 * $tb (the memory store implements the same stream-metadata retention; the EventStoreDB adapter's
 * own part is covered by the contract suite against a server and by unit tests against a faked
 * client). RoomCreated and the joins go with the messages, so the room must live on through the
 * snapshots its HistoryTrimmed events carry: members, password, author checks and subscriptions.
 */
const roomQuery = `query($id: ID!) { room(id: $id) { name headSeq oldestSeq memberCount private } }`;
type RoomView = { name: string; headSeq: number; oldestSeq: number; memberCount: number; private: boolean };

describe('retention on a prefix-cutting store (EVENT_STORE=memory, as EventStoreDB)', () => {
  it('by count: the log keeps only the newest RETENTION_MAX_COUNT events, and the room, its members and its password live on', async () => {
    const node = await startInProcessNode({ env: { EVENT_STORE: 'memory', RATE_LIMIT_MESSAGES: '0', RETENTION_MAX_COUNT: '10', RETENTION_INTERVAL_MS: '300' } });
    const ada = await createUser(node.url, 'ada');
    const bob = await createUser(node.url, 'bob');
    const room = await createRoom(node.url, ada.token, 'private and short', 'secret password');
    await joinRoom(node.url, bob.token, room.id, 'secret password');
    const sent = [];
    for (let i = 0; i < 40; i++) sent.push(await sendMessage(node.url, i % 2 ? ada.token : bob.token, room.id, `m${i}`));

    // The retention job puts $maxCount on a room's stream at its first run after the room appears.
    const log = await eventually(async () => {
      const kept = await readLog(node.url, ada.token, room.id, 0);
      return kept.length <= 10 ? kept : undefined;
    }, 10_000, 'the stream keeps only its newest 10 events');
    expect(log.at(-1)!.seq).toBe(sent.at(-1)!.seq + (log.at(-1)!.__typename === 'HistoryTrimmed' ? 1 : 0));
    expect(log.some((e) => e.__typename === 'HistoryTrimmed')).toBe(true);
    expect(log.some((e) => e.__typename === 'RoomCreated' || e.__typename === 'MemberJoined')).toBe(false);

    const view = await eventually(async () => {
      const { room: v } = await gql<{ room: RoomView }>(node.url, roomQuery, { id: room.id }, ada.token);
      return v.oldestSeq > 20 ? v : undefined;
    }, 10_000, 'oldestSeq followed');
    expect(view).toMatchObject({ name: 'private and short', memberCount: 2, private: true });

    // A subscription from the start begins at what is kept, then goes on live.
    const client = wsClient(node.wsUrl, bob.token);
    try {
      const events = collectRoomEvents(client, room.id, 0);
      await events.waitFor((items) => items.length > 0, 10_000, 'replay');
      expect(events.items[0]!.seq).toBeGreaterThanOrEqual(view.oldestSeq);
      const live = await sendMessage(node.url, bob.token, room.id, 'live');
      await events.waitFor((items) => items.some((e) => e.seq === live.seq), 10_000, 'live event');
      const seqs = events.items.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
    } finally {
      await client.dispose();
    }

    // The password, membership and author checks were folded from snapshots, not from RoomCreated.
    const eve = await createUser(node.url, 'eve');
    const wrong = await http(node.url, 'mutation($r: ID!) { joinRoom(roomId: $r, password: "guess") { id } }', { r: room.id }, eve.token);
    expect(errorCodes(wrong.errors)).toEqual(['FORBIDDEN']);
    const notMember = await http(node.url, 'mutation($r: ID!) { sendMessage(roomId: $r, body: "hi", clientMessageId: "e1") { id } }', { r: room.id }, eve.token);
    expect(errorCodes(notMember.errors)).toEqual(['FORBIDDEN']);
    const gone = await http(node.url, 'mutation($id: ID!) { editMessage(messageId: $id, body: "x") { id } }', { id: sent[0]!.id }, bob.token);
    expect(errorCodes(gone.errors)).toEqual(['NOT_FOUND']);
    const last = sent.at(-1)!;
    const notAuthor = await http(node.url, 'mutation($id: ID!) { editMessage(messageId: $id, body: "x") { id } }', { id: last.id }, bob.token);
    expect(errorCodes(notAuthor.errors)).toEqual(['FORBIDDEN']);
    await joinRoom(node.url, eve.token, room.id, 'secret password');
    await sendMessage(node.url, eve.token, room.id, 'eve was let in');
    await node.stop();
  });

  it('by age: the job moves the stream start past old messages, with a snapshot, and the room goes on', async () => {
    const node = await startInProcessNode({ env: { EVENT_STORE: 'memory', RATE_LIMIT_MESSAGES: '0', RETENTION_MAX_AGE: '2s', RETENTION_INTERVAL_MS: '300' } });
    const ada = await createUser(node.url, 'ada');
    const room = await createRoom(node.url, ada.token, 'forgetful');
    for (let i = 0; i < 5; i++) await sendMessage(node.url, ada.token, room.id, `old ${i}`);
    const trimmed = await eventually(async () => {
      const { room: v } = await gql<{ room: RoomView }>(node.url, roomQuery, { id: room.id }, ada.token);
      return v.oldestSeq > 7 ? v : undefined;
    }, 15_000, 'the age cut');
    expect(trimmed.memberCount).toBe(1);
    const log = await readLog(node.url, ada.token, room.id, 0);
    expect(log.map((e) => e.__typename)).toEqual(['HistoryTrimmed']);
    // A quiet room is left alone: its snapshot is not cut and re-made on every run. Under test:
    // longer than RETENTION_MAX_AGE, so a job that re-cut the snapshot would have done it by now.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await readLog(node.url, ada.token, room.id, 0)).toEqual(log);
    const after = await sendMessage(node.url, ada.token, room.id, 'new');
    expect(after.seq).toBe(log[0]!.seq + 1);
    const history = await gql<{ messages: Array<{ body: string }> }>(node.url, 'query($r: ID!) { messages(roomId: $r) { body } }', { r: room.id }, ada.token);
    expect(history.messages.map((m) => m.body)).toEqual(['new']);
    await node.stop();
  });
});
