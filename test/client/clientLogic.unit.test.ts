/** The client library's pure parts, and the web chat's timeline reducer, without a server. */
import { CombinedError } from '@urql/core';
import { describe, expect, it } from 'vitest';
import { pushIterator } from '../../client/src/asyncQueue.js';
import { backoffDelay } from '../../client/src/backoff.js';
import { CloseCodes, ErrorCodes } from '../../schema/codes.js';
import { ChatClientError, closeCodeError, fromCombinedError, isFinal, type ChatErrorCode } from '../../client/src/errors.js';
import { SeqTracker } from '../../client/src/seqTracker.js';
import { roundRobin, toHttpUrl, toWebSocketUrl } from '../../client/src/urls.js';
import type { Message, RoomEvent } from '../../client/src/index.js';
import { emptyTimeline, timelineReducer, type Timeline } from '../../client/web/src/timeline.js';

describe('SeqTracker', () => {
  it('delivers the next seq, drops repeats, and calls a jump a gap', () => {
    const seq = new SeqTracker(3);
    expect(seq.check(4)).toBe('deliver');
    seq.advance(4);
    expect(seq.check(4)).toBe('duplicate');
    expect(seq.check(2)).toBe('duplicate');
    expect(seq.check(6)).toBe('gap');
    expect(seq.lastSeq).toBe(4);
  });

  it('takes a jump over seqs that retention cut as expected, and any other jump as a gap', () => {
    const seq = new SeqTracker(3);
    seq.trimmed(8);
    seq.trimmed(5); // an older cut changes nothing
    expect(seq.trimmedBefore).toBe(8);
    expect(seq.check(8)).toBe('trimmed'); // 4…7 are gone for good
    expect(seq.check(9)).toBe('gap'); // 8 may still be in the log
    seq.advance(8);
    expect(seq.check(9)).toBe('deliver');
  });

  it('without a start, takes the first seq it is given or told', () => {
    const seq = new SeqTracker(undefined);
    seq.startAt(10);
    seq.startAt(99);
    expect(seq.lastSeq).toBe(10);
    expect(seq.check(11)).toBe('deliver');
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt up to the cap, with half of each step random', () => {
    const options = { initialMs: 100, maxMs: 1_000 };
    expect(backoffDelay(0, options, () => 0)).toBe(50);
    expect(backoffDelay(0, options, () => 1)).toBe(100);
    expect(backoffDelay(3, options, () => 0)).toBe(400);
    expect(backoffDelay(10, options, () => 1)).toBe(1_000);
    expect(backoffDelay(10_000, options, () => 0.5)).toBe(750);
  });
});

describe('URLs', () => {
  it('turns a node address into its WebSocket and HTTP endpoints', () => {
    expect(toWebSocketUrl('http://127.0.0.1:4000')).toBe('ws://127.0.0.1:4000/graphql');
    expect(toWebSocketUrl('https://chat.example/graphql')).toBe('wss://chat.example/graphql');
    expect(toHttpUrl('ws://127.0.0.1:4000/graphql')).toBe('http://127.0.0.1:4000/graphql');
    expect(toHttpUrl('http://127.0.0.1:4000/')).toBe('http://127.0.0.1:4000/graphql');
  });

  it('round robin stays on a working URL and moves on after a failure', () => {
    const choose = roundRobin(['a', 'b', 'c']);
    expect(choose({ attempt: 0, previous: undefined, previousFailed: false })).toBe('a');
    expect(choose({ attempt: 0, previous: 'a', previousFailed: false })).toBe('a');
    expect(choose({ attempt: 1, previous: 'a', previousFailed: true })).toBe('b');
    expect(choose({ attempt: 2, previous: 'b', previousFailed: true })).toBe('c');
    expect(choose({ attempt: 3, previous: 'c', previousFailed: true })).toBe('a');
  });

});

describe('the code table (schema/codes.ts) on the client', () => {
  it('classifies close codes: a refused token is final, a dead node is not', () => {
    expect(closeCodeError(4403, '')?.code).toBe('UNAUTHENTICATED');
    expect(closeCodeError(4400, 'bad')?.code).toBe('BAD_USER_INPUT');
    for (const code of [1006, 1012, 4008, 4499, 1000]) expect(closeCodeError(code, '')).toBeNull();
  });

  it("gives up after exactly the close codes the table says reconnecting cannot help, and keeps the code", () => {
    for (const { code, reconnect } of Object.values(CloseCodes)) {
      const error = closeCodeError(code, 'why');
      expect({ code, final: error !== null }).toEqual({ code, final: !reconnect });
      if (error) expect(error.closeCode).toBe(code);
    }
    expect(Object.values(CloseCodes).filter((c) => !c.reconnect).map((c) => c.code).sort()).toEqual([4400, 4403, 4406]);
    // Codes outside the table (a normal close, a going-away server, a dead node) mean "reconnect".
    for (const code of [1000, 1001, 1006, 1011, 4000]) expect(closeCodeError(code, '')).toBeNull();
  });

  it("stops retrying exactly the server codes the table says no retry can fix, and CLOSED", () => {
    const final = (code: ChatErrorCode) => isFinal(new ChatClientError(code, ''));
    for (const [code, { retry }] of Object.entries(ErrorCodes)) expect({ code, final: final(code as ChatErrorCode) }).toEqual({ code, final: !retry });
    expect(final('RATE_LIMITED')).toBe(false);
    expect(final('CLOSED')).toBe(true);
    expect(final('NETWORK')).toBe(false);
    expect(final('INTERNAL')).toBe(false);
  });

  it("passes the table's codes through from a GraphQL error, and turns unknown ones into INTERNAL", () => {
    const graphQLError = (extensions: Record<string, unknown>) => fromCombinedError(new CombinedError({ graphQLErrors: [{ message: 'no', extensions }] }));
    for (const code of Object.keys(ErrorCodes)) expect(graphQLError({ code }).code).toBe(code);
    expect(graphQLError({ code: 'RATE_LIMITED', retryAfterMs: 250 }).retryAfterMs).toBe(250);
    expect(graphQLError({ code: 'SOMETHING_NEW' }).code).toBe('INTERNAL');
    expect(graphQLError({}).code).toBe('INTERNAL');
  });
});

describe('pushIterator', () => {
  it('queues values, throws an error after them, and stops its source on return()', async () => {
    let push: (n: number) => void = () => {};
    let fail: (e: unknown) => void = () => {};
    let stopped = 0;
    const iterator = pushIterator<number>((p, f) => {
      push = p;
      fail = f;
      return () => stopped++;
    });
    push(1);
    push(2);
    expect(await iterator.next()).toEqual({ done: false, value: 1 });
    const waiting = iterator.next();
    push(3);
    expect(await waiting).toEqual({ done: false, value: 2 });
    expect(await iterator.next()).toEqual({ done: false, value: 3 });
    fail(new Error('boom'));
    await expect(iterator.next()).rejects.toThrow('boom');

    const other = pushIterator<number>(() => () => stopped++);
    const parked = other.next();
    await other.return!();
    expect(await parked).toEqual({ done: true, value: undefined });
    expect(stopped).toBe(1);
  });
});

describe('the web chat timeline', () => {
  const ada = { id: 'u-ada', name: 'ada' };
  const message = (seq: number, body = `m${seq}`, extra: Partial<Message> = {}): Message => ({
    id: `r~${seq}`,
    clientMessageId: `c${seq}`,
    roomId: 'r',
    seq,
    author: ada,
    body,
    createdAt: '2026-01-01T00:00:00Z',
    editedAt: null,
    deleted: false,
    ...extra,
  });
  const posted = (m: Message): RoomEvent => ({ __typename: 'MessagePosted', seq: m.seq, roomId: 'r', at: m.createdAt, message: m });
  const run = (...actions: Parameters<typeof timelineReducer>[1][]): Timeline => actions.reduce(timelineReducer, emptyTimeline);

  it('merges history pages and live events by id, in seq order, without doubles', () => {
    const state = run(
      { type: 'history', messages: [message(5), message(6)], older: false, pageSize: 2 },
      { type: 'event', event: posted(message(6)) },
      { type: 'event', event: posted(message(8)) },
      { type: 'history', messages: [message(2), message(3)], older: true, pageSize: 2 },
    );
    expect(state.messages.map((m) => m.seq)).toEqual([2, 3, 5, 6, 8]);
    expect(state.hasOlder).toBe(true);
    expect(run({ type: 'history', messages: [message(1)], older: false, pageSize: 50 }).hasOlder).toBe(false);
  });

  it('applies edits and deletes, and a replayed post does not undo an edit history already has', () => {
    const edited = message(4, 'new', { editedAt: '2026-01-01T00:01:00Z' });
    const state = run(
      { type: 'history', messages: [edited, message(5)], older: false, pageSize: 50 },
      { type: 'event', event: posted(message(4, 'old')) },
      { type: 'event', event: { __typename: 'MessageDeleted', seq: 9, roomId: 'r', at: 'x', messageId: 'r~5' } },
    );
    expect(state.messages.map((m) => [m.body, m.deleted])).toEqual([
      ['new', false],
      ['', true],
    ]);
  });

  it('drops the messages retention removed, keeps them out of later history pages, and stops offering older ones', () => {
    const trimmed: RoomEvent = { __typename: 'HistoryTrimmed', seq: 12, roomId: 'r', at: 'x', beforeSeq: 6 };
    const state = run(
      { type: 'history', messages: [message(4), message(5), message(7)], older: false, pageSize: 3 },
      { type: 'event', event: trimmed },
      { type: 'history', messages: [message(2), message(3)], older: true, pageSize: 3 },
    );
    expect(state.messages.map((m) => m.seq)).toEqual([7]);
    expect(state.trimmedBefore).toBe(6);
    const emptied = run({ type: 'history', messages: [message(4), message(5)], older: false, pageSize: 2 }, { type: 'event', event: trimmed });
    expect(emptied).toMatchObject({ messages: [], hasOlder: false, trimmedBefore: 6 });
  });

  it('a pending send goes when its message arrives (by ack or by event), and stays with an error when refused', () => {
    const pending = { clientMessageId: 'c7', body: 'm7', author: ada, error: null };
    expect(run({ type: 'sending', pending }, { type: 'event', event: posted(message(7)) }).pending).toEqual([]);
    expect(run({ type: 'sending', pending }, { type: 'sent', clientMessageId: 'c7', message: message(7) }).pending).toEqual([]);
    const failed = run({ type: 'sending', pending }, { type: 'sendFailed', clientMessageId: 'c7', error: 'too fast' });
    expect(failed.pending).toEqual([{ ...pending, error: 'too fast' }]);
    expect(run({ type: 'sending', pending }, { type: 'discard', clientMessageId: 'c7' }).pending).toEqual([]);
  });
});
