/**
 * The history projection (`messages`): ascending seq; `before: n` gives the newest `limit`
 * messages with seq < n, `after: n` the oldest `limit` with seq > n. Paging either way visits
 * every message exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE_FIELDS, createRoom, createUser, gql, joinRoom, sendMessage, type MessageInfo, type UserSession } from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import type { ServerHandle } from '../support/nodeProcess.js';

let node: ServerHandle;
let alice: UserSession;
let roomId: string;
let sent: MessageInfo[];

const PAGE = `query($roomId: ID!, $before: Int, $after: Int, $limit: Int) {
  messages(roomId: $roomId, before: $before, after: $after, limit: $limit) { ${MESSAGE_FIELDS} }
}`;

const page = async (vars: { before?: number; after?: number; limit?: number }) =>
  (await gql<{ messages: MessageInfo[] }>(node.url, PAGE, { roomId, ...vars }, alice.token)).messages;
const seqs = (messages: MessageInfo[]) => messages.map((m) => m.seq);

beforeAll(async () => {
  node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
  alice = await createUser(node.url, 'alice');
  roomId = (await createRoom(node.url, alice.token, 'history')).id;
  sent = [];
  for (let i = 0; i < 35; i++) {
    // Joins in between leave gaps in the messages' seqs: paging is by seq, not by position.
    if (i % 10 === 5) await joinRoom(node.url, (await createUser(node.url, `joiner-${i}`)).token, roomId);
    sent.push(await sendMessage(node.url, alice.token, roomId, `message ${i}`));
  }
});

// Hooks run in reverse order: the graceful stop (and its exit code check) first, then the sweep.
afterAll(stopAllInProcessNodes);
afterAll(async () => {
  expect(await node?.stop()).toBe(0);
});

describe('messages paging', () => {
  it('without a cursor gives the newest `limit`, ascending (default limit 50)', async () => {
    expect(seqs(await page({ limit: 10 }))).toEqual(seqs(sent.slice(-10)));
    const all = await page({});
    expect(seqs(all)).toEqual(seqs(sent));
    expect(all.map((m) => m.body)).toEqual(sent.map((m) => m.body));
    expect(all[0]).toEqual(sent[0]);
  });

  it('pages backwards with `before` through every message exactly once', async () => {
    const seen: MessageInfo[] = [];
    let before: number | undefined;
    for (let round = 0; round < 20; round++) {
      const messages = await page({ before, limit: 7 });
      if (messages.length === 0) break;
      expect(messages.length).toBeLessThanOrEqual(7);
      expect(seqs(messages)).toEqual([...seqs(messages)].sort((a, b) => a - b));
      if (before !== undefined) expect(messages.at(-1)!.seq).toBeLessThan(before);
      seen.unshift(...messages);
      before = messages[0]!.seq;
    }
    expect(seqs(seen)).toEqual(seqs(sent));
  });

  it('pages forwards with `after` through every message exactly once', async () => {
    const seen: MessageInfo[] = [];
    let after = 0;
    for (let round = 0; round < 20; round++) {
      const messages = await page({ after, limit: 8 });
      if (messages.length === 0) break;
      expect(messages[0]!.seq).toBeGreaterThan(after);
      seen.push(...messages);
      after = messages.at(-1)!.seq;
    }
    expect(seqs(seen)).toEqual(seqs(sent));
  });

  it('`before` and `after` are seq bounds, exclusive, even where seqs have gaps', async () => {
    const middle = sent[20]!;
    expect(seqs(await page({ before: middle.seq, limit: 3 }))).toEqual(seqs(sent.slice(17, 20)));
    expect(seqs(await page({ after: middle.seq, limit: 3 }))).toEqual(seqs(sent.slice(21, 24)));
    // A bound that falls in a gap (a join's seq) works the same.
    const gap = sent[5]!.seq - 1;
    expect(sent.some((m) => m.seq === gap)).toBe(false);
    expect(seqs(await page({ before: gap, limit: 2 }))).toEqual(seqs(sent.slice(3, 5)));
    expect(seqs(await page({ after: gap, limit: 2 }))).toEqual(seqs(sent.slice(5, 7)));
    // Past either end: nothing.
    expect(await page({ before: sent[0]!.seq })).toEqual([]);
    expect(await page({ after: sent.at(-1)!.seq })).toEqual([]);
  });
});
