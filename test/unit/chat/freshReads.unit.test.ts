import { describe, expect, it } from 'vitest';
import { readAtLeast, type FreshReadPorts } from '../../../src/chat/queries/freshReads.js';
import { createMemoryEventStore } from '../../../src/eventStore/memoryEventStore.js';
import { createPositionWaiter } from '../../../src/projector/waitForPosition.js';
import { ReadModelsBehindError, ReadModelsUnavailableError, type ReadAt } from '../../../src/readModels/readModelStore.js';
import { toGraphQLError } from '../../../schema/errors.js';

/*
 * readAtLeast: the read waits for the node's shared progress to reach the position, asks the store
 * for views that include it, and when the store says it is behind (emptied after the node last
 * heard of it) winds the node's progress back and waits again; past the bound, UNAVAILABLE.
 */

function ports(readWaitMs: number) {
  const waiter = createPositionWaiter('read models');
  const rewinds: number[] = [];
  const fresh: FreshReadPorts = {
    store: createMemoryEventStore(),
    progress: { waitFor: waiter.waitFor, rewind: (position) => (rewinds.push(position), waiter.rewind(position)) },
    consistency: { readWaitMs },
  };
  return { fresh, waiter, rewinds };
}

describe('readAtLeast', () => {
  it('answers UNAVAILABLE, retry shortly, when the read models do not answer (Redis down), and lets a bug through as it is', async () => {
    const { fresh, waiter } = ports(1_000);
    waiter.advance(3);
    const down = readAtLeast(fresh, 3, 'the history', async () => Promise.reject(new ReadModelsUnavailableError(new Error('Connection is closed.'))));
    const error = await down.catch((e: unknown) => e);
    expect(toGraphQLError(error)?.extensions).toMatchObject({ code: 'UNAVAILABLE', retryAfterMs: 1_000 });
    expect((error as Error).message).toBe('the history cannot be read right now (its store does not answer); retry shortly');
    const bug = new TypeError('a bug');
    await expect(readAtLeast(fresh, 3, 'the history', async () => Promise.reject(bug))).rejects.toBe(bug);
  });

  it('reads at once when the progress has the position, asking for views that include it', async () => {
    const { fresh, waiter } = ports(1_000);
    waiter.advance(7);
    const asked: ReadAt[] = [];
    expect(await readAtLeast(fresh, 7, 'the history', async (at) => (asked.push(at), 'answer'))).toBe('answer');
    expect(asked).toEqual([{ atLeast: 7 }]);
  });

  it('waits for the progress to reach the position before reading', async () => {
    const { fresh, waiter } = ports(1_000);
    let readAt = -1;
    const reading = readAtLeast(fresh, 5, 'the history', async () => (readAt = waiter.current()));
    setTimeout(() => waiter.advance(5), 20);
    await reading;
    expect(readAt).toBe(5);
  });

  it('a store behind what the node believed: winds the progress back, waits for it again, reads again', async () => {
    const { fresh, waiter, rewinds } = ports(1_000);
    waiter.advance(9);
    let checkpoint = 0;
    const read = async (at: ReadAt) => {
      if (checkpoint < at.atLeast) throw new ReadModelsBehindError(at.atLeast, checkpoint);
      return 'whole';
    };
    const reading = readAtLeast(fresh, 9, 'the history', read);
    // The rebuild reaches 9 again a little later, and says so.
    setTimeout(() => {
      checkpoint = 9;
      waiter.advance(9);
    }, 30);
    expect(await reading).toBe('whole');
    expect(rewinds).toEqual([0]);
  });

  it('past the bound: UNAVAILABLE with retryAfterMs, saying what is being rebuilt (never a short answer)', async () => {
    const { fresh, waiter } = ports(50);
    waiter.advance(9);
    const started = Date.now();
    const error = await readAtLeast(fresh, 9, 'the history', async (at) => {
      throw new ReadModelsBehindError(at.atLeast, 3);
    }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(toGraphQLError(error)?.toJSON()).toEqual({
      message: 'the history is being rebuilt from the log and is not complete yet; retry shortly',
      extensions: { code: 'UNAVAILABLE', retryAfterMs: 1_000 },
    });
    // The same when the progress itself never gets there.
    const waited = await readAtLeast(fresh, 20, 'the room list', async () => 'never').catch((e: unknown) => e);
    expect(toGraphQLError(waited)?.extensions.code).toBe('UNAVAILABLE');
  });

  it('any other failure of the read is passed on as it is', async () => {
    const { fresh } = ports(1_000);
    await expect(readAtLeast(fresh, 0, 'the history', async () => Promise.reject(new Error('redis down')))).rejects.toThrow('redis down');
  });
});
