import { describe, expect, it } from 'vitest';
import { startNode } from '../support/nodeProcess.js';
import { collectRoomEvents, createRoom, createUser, errorCodes, eventually, gql, http, joinRoom, readLog, sendMessage, wsClient } from '../support/gql.js';

/**
 * Retention by count on a store that deletes old events (SQLite here, PostgreSQL in
 * retention.postgres.e2e.test.ts): a room keeps its newest RETENTION_MAX_COUNT messages;
 * a HistoryTrimmed event records each trim in the room's own log; read models, queries and
 * subscriptions follow, and the room itself (members, seqs) survives, across a restart too.
 *
 * The messages are sent to a node whose retention is not due for an hour, and the cut is made by
 * a node started on the same log with a short interval: a run landing in the middle of the sends
 * would cut an earlier, load-dependent place.
 */
export function describeRetentionByCount(title: string, storeEnv: () => Record<string, string> = () => ({})): void {
describe(title, () => {
  it('trims old messages, moves oldestSeq, starts old subscriptions at oldestSeq, and keeps the room working after a restart', async () => {
    const env = { RATE_LIMIT_MESSAGES: '0', RETENTION_MAX_COUNT: '10', RETENTION_INTERVAL_MS: '300', ...storeEnv() };
    let node = await startNode({ env: { ...env, RETENTION_INTERVAL_MS: '3600000' } });
    const ada = await createUser(node.url, 'ada');
    const room = await createRoom(node.url, ada.token, 'short memory');
    const sent = [];
    for (let i = 0; i < 30; i++) sent.push(await sendMessage(node.url, ada.token, room.id, `m${i}`));
    await node.stop();
    node = await startNode({ env, dataDir: node.dataDir });
    const roomQuery = `query($id: ID!) { room(id: $id) { headSeq oldestSeq memberCount } }`;
    const trimmed = await eventually(async () => {
      const { room: view } = await gql<{ room: { headSeq: number; oldestSeq: number; memberCount: number } }>(node.url, roomQuery, { id: room.id }, ada.token);
      return view.oldestSeq > 1 ? view : undefined;
    }, 10_000, 'retention ran');
    // 32 seqs before the trim (created, joined, 30 posts); the trim event is seq 33.
    expect(trimmed.oldestSeq).toBe(23);
    expect(trimmed.memberCount).toBe(1);

    const history = await gql<{ messages: Array<{ seq: number }> }>(node.url, 'query($r: ID!) { messages(roomId: $r, limit: 100) { seq } }', { r: room.id }, ada.token);
    expect(history.messages.map((m) => m.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 23 + i));

    const log = await readLog(node.url, ada.token, room.id, 0);
    expect(log[0]!.seq).toBe(23);
    expect(log.find((e) => e.__typename === 'HistoryTrimmed')).toMatchObject({ seq: 33 });

    const client = wsClient(node.wsUrl, ada.token);
    try {
      const events = collectRoomEvents(client, room.id, 0);
      await events.waitFor((items) => items.some((e) => e.__typename === 'HistoryTrimmed'), 10_000, 'replay reached the trim');
      expect(events.items[0]!.seq).toBe(23);
    } finally {
      await client.dispose();
    }

    // A trimmed message cannot be edited; a kept one can; newcomers join and post as before.
    const gone = await http(node.url, 'mutation($id: ID!) { editMessage(messageId: $id, body: "x") { id } }', { id: sent[0]!.id }, ada.token);
    expect(errorCodes(gone.errors)).toEqual(['NOT_FOUND']);
    const bob = await createUser(node.url, 'bob');
    await joinRoom(node.url, bob.token, room.id);

    await node.kill();
    node = await startNode({ env, dataDir: node.dataDir });
    const after = await sendMessage(node.url, bob.token, room.id, 'after the restart');
    expect(after.seq).toBeGreaterThan(33);
    const { room: view } = await gql<{ room: { headSeq: number; oldestSeq: number; memberCount: number } }>(node.url, roomQuery, { id: room.id }, ada.token);
    expect(view.memberCount).toBe(2);
    // The job runs every 300 ms and this send is the room's 11th kept message: it may already have
    // cut again (seen once in four runs). Whatever follows the send is that cut, and nothing else.
    const sinceSend = await readLog(node.url, ada.token, room.id, after.seq);
    expect(sinceSend.map((e) => e.__typename)).toEqual(sinceSend.length ? ['HistoryTrimmed'] : []);
    expect(view.headSeq).toBeGreaterThanOrEqual(after.seq);
    expect(view.headSeq).toBeLessThanOrEqual(after.seq + 1);
    expect(view.oldestSeq).toBeGreaterThanOrEqual(23);
    await node.stop();
  });
});
}
