/**
 * The room feed's resume logic against a scripted, faulty server (an urql exchange): a repeated
 * seq is dropped, a skipped seq makes it subscribe again from the last seq it has, and a lost
 * connection makes it resume with afterSeq = the last seq delivered.
 */
import { describe, expect, it } from 'vitest';
import { Client, makeErrorResult, makeResult, type Exchange, type Operation } from '@urql/core';
import { filter, make, mergeMap, pipe, takeUntil } from 'wonka';
import type { Connection } from '../../client/src/connection.js';
import { followRoom } from '../../client/src/roomFeed.js';
import type { RoomEvent } from '../../client/src/index.js';

const event = (seq: number): RoomEvent => ({ __typename: 'MemberJoined', seq, roomId: 'r', at: '2026-01-01T00:00:00Z', user: { id: 'u', name: 'u' } });

type Step = number | 'drop';

/** Each subscription attempt plays the next script: seqs to send, or 'drop' (the socket closes). */
function scriptedConnection(scripts: Step[][]): { connection: Connection; afterSeqs: Array<number | undefined> } {
  const afterSeqs: Array<number | undefined> = [];
  const server: Exchange = () => (operations$) =>
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
                observer.next(makeResult(operation, { data: { roomEvents: event(step) } }));
              }
            })();
            return () => void (cancelled = true);
          }),
          takeUntil(pipe(operations$, filter((op) => op.kind === 'teardown' && op.key === operation.key))),
        ),
      ),
    );
  const urql = new Client({ url: 'ws://test/graphql', exchanges: [server] });
  const connection = {
    urql,
    closed: false,
    finalError: null,
    whenClosed: new Promise<void>(() => {}),
    hold: () => () => {},
    waitToRetry: () => new Promise<void>((resolve) => setTimeout(resolve, 5)),
  } as unknown as Connection;
  return { connection, afterSeqs };
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
});
