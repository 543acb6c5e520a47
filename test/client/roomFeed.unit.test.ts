/**
 * The room feed's resume logic against a scripted, faulty server (an urql exchange): a repeated
 * seq is dropped, a skipped seq makes it ask the room for its retention cut and subscribe again
 * from the last seq it has, and a lost connection makes it resume with afterSeq = the last seq
 * delivered.
 */
import { describe, expect, it } from 'vitest';
import { Client, makeErrorResult, makeResult, type Exchange, type Operation } from '@urql/core';
import { filter, fromValue, make, merge, mergeMap, pipe, takeUntil } from 'wonka';
import type { Connection } from '../../client/src/connection.js';
import { followRoom } from '../../client/src/roomFeed.js';
import type { RoomEvent } from '../../client/src/index.js';

const at = '2026-01-01T00:00:00Z';
const event = (seq: number): RoomEvent => ({ __typename: 'MemberJoined', seq, roomId: 'r', at, user: { id: 'u', name: 'u' } });
const trimmed = (seq: number, beforeSeq: number): RoomEvent => ({ __typename: 'HistoryTrimmed', seq, roomId: 'r', at, beforeSeq });

type Step = number | RoomEvent | 'drop';

/**
 * Each subscription attempt plays the next script: seqs (or events) to send, or 'drop' (the
 * socket closes). The room query answers with the room's current `oldestSeq` (its retention cut).
 */
function scriptedConnection(scripts: Step[][], room: { oldestSeq: number } = { oldestSeq: 1 }): { connection: Connection; afterSeqs: Array<number | undefined>; roomQueries: () => number } {
  const afterSeqs: Array<number | undefined> = [];
  let roomQueries = 0;
  const roomResult = (operation: Operation) => {
    roomQueries++;
    return makeResult(operation, { data: { room: { id: 'r', name: 'r', private: false, headSeq: 99, oldestSeq: room.oldestSeq, memberCount: 1, createdAt: at } } });
  };
  const server: Exchange = () => (operations$) =>
    merge([
      pipe(
        operations$,
        filter((operation) => operation.kind === 'query'),
        mergeMap((operation: Operation) => fromValue(roomResult(operation))),
      ),
      pipe(
      operations$,
      filter((operation) => operation.kind === 'subscription'),
      mergeMap((operation: Operation) =>
        pipe(
          make<ReturnType<typeof makeResult>>((observer) => {
            afterSeqs.push((operation.variables as { afterSeq?: number } | undefined)?.afterSeq);
            const script = scripts.shift() ?? [];
            let cancelled = false;
            void (async () => {
              for (const step of script) {
                await new Promise((resolve) => setTimeout(resolve, 1));
                if (cancelled) return;
                if (step === 'drop') {
                  observer.next(makeErrorResult(operation, Object.assign(new Error('closed'), { code: 1006 })));
                  return observer.complete();
                }
                observer.next(makeResult(operation, { data: { roomEvents: typeof step === 'number' ? event(step) : step } }));
              }
            })();
            return () => void (cancelled = true);
          }),
          takeUntil(pipe(operations$, filter((op) => op.kind === 'teardown' && op.key === operation.key))),
        ),
      ),
      ),
    ]);
  const urql = new Client({ url: 'ws://test/graphql', exchanges: [server] });
  const connection = {
    urql,
    closed: false,
    finalError: null,
    whenClosed: new Promise<void>(() => {}),
    hold: () => () => {},
    waitToRetry: () => new Promise<void>((resolve) => setTimeout(resolve, 5)),
  } as unknown as Connection;
  return { connection, afterSeqs, roomQueries: () => roomQueries };
}

describe('followRoom', () => {
  it('drops repeats, re-reads a skipped seq, resumes after a drop: every seq once, in order', async () => {
    const { connection, afterSeqs } = scriptedConnection([
      [1, 2, 2, 4], // a repeat, then a gap (3 missing): resubscribe from 2
      [3, 4, 'drop'], // the connection drops: resume from 4
      [4, 5, 6], // the seam repeats 4
    ]);
    const seen: number[] = [];
    const errors: unknown[] = [];
    const feed = followRoom(connection, 'r', { afterSeq: 0 }, { onEvent: (e) => seen.push(e.seq), onError: (e) => errors.push(e) });
    for (let i = 0; i < 200 && seen.length < 6; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    feed.unsubscribe();
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(afterSeqs).toEqual([0, 2, 4]);
    expect(feed.lastSeq).toBe(6);
    expect(errors).toEqual([]);
  });

  it('goes on after a gap that a second subscription cannot fill (events no longer retained)', async () => {
    const { connection } = scriptedConnection([[1, 5], [5, 6]]);
    const seen: number[] = [];
    const gaps: unknown[] = [];
    const feed = followRoom(connection, 'r', { afterSeq: 0 }, { onEvent: (e) => seen.push(e.seq), onError: () => {}, onGap: (gap) => gaps.push(gap) });
    for (let i = 0; i < 200 && seen.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    feed.unsubscribe();
    expect(seen).toEqual([1, 5, 6]);
    expect(gaps).toEqual([{ from: 2, to: 5 }]);
  });
  it('takes a jump over seqs that retention cut as expected: no gap reported, and the HistoryTrimmed event tells why', async () => {
    // Dropped at 2; meanwhile retention cut everything below 6 and recorded it at seq 9. The
    // resume from 2 starts at the oldest kept seq; the room's oldestSeq explains the jump.
    const kept = [6, 7, 8, trimmed(9, 6), 10];
    const { connection, afterSeqs, roomQueries } = scriptedConnection([[1, 2, 'drop'], kept, kept], { oldestSeq: 6 });
    const seen: RoomEvent[] = [];
    const gaps: unknown[] = [];
    const feed = followRoom(connection, 'r', { afterSeq: 0 }, { onEvent: (e) => seen.push(e), onError: () => {}, onGap: (gap) => gaps.push(gap) });
    for (let i = 0; i < 200 && seen.length < 7; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    feed.unsubscribe();
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 6, 7, 8, 9, 10]);
    expect(seen.find((e) => e.__typename === 'HistoryTrimmed')).toMatchObject({ beforeSeq: 6 });
    expect(gaps).toEqual([]);
    // The jump cost one look at the room and one more subscription from the same seq.
    expect(afterSeqs).toEqual([0, 2, 2]);
    expect(roomQueries()).toBe(1);
  });
});
