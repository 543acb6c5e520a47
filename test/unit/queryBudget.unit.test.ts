import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../src/domain/errors.js';
import { QueryBudget } from '../../src/server/plugins/queryBudget.js';

/** A task that runs until `finish` is called. */
function held() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  let started = false;
  return {
    task: async () => {
      started = true;
      await done;
      return 'ok';
    },
    finish: () => finish(),
    get started() {
      return started;
    },
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('QueryBudget: cost running at once, per node and per user', () => {
  it("refuses a user's query past their budget at once (RATE_LIMITED), checked before any await", async () => {
    const budget = new QueryBudget({ perNode: 10_000, perUser: 2_000, maxQueued: 10 });
    const tasks = [held(), held(), held()];
    const runs = tasks.map((t) => budget.run('user:a', 1_000, t.task).catch((error: unknown) => error));
    const third = await runs[2];
    expect(third).toBeInstanceOf(RateLimitedError);
    expect((third as RateLimitedError).retryAfterMs).toBe(1_000);
    // Another user is not affected.
    const other = held();
    const otherRun = budget.run('user:b', 2_000, other.task);
    for (const t of [tasks[0]!, tasks[1]!, other]) t.finish();
    expect(await Promise.all([runs[0], runs[1], otherRun])).toEqual(['ok', 'ok', 'ok']);
    expect(budget.load).toEqual({ running: 0, queued: 0, users: 0 });
  });

  it('runs at most perNode of cost at once; what does not fit waits in order; past the queue: refused', async () => {
    const budget = new QueryBudget({ perNode: 1_500, perUser: 5_000, maxQueued: 1 });
    const [a, b, c, d] = [held(), held(), held(), held()];
    const ra = budget.run('u1', 1_000, a.task);
    const rb = budget.run('u2', 1_000, b.task);
    // A cheap one that fits in what is left runs at once, queue or not.
    const rc = budget.run('u3', 10, c.task);
    // One that does not fit finds the queue (1) full.
    const rd = budget.run('u4', 1_000, d.task).catch((error: unknown) => error);
    await tick();
    expect(a.started).toBe(true);
    expect(b.started).toBe(false);
    expect(c.started).toBe(true);
    expect(await rd).toBeInstanceOf(RateLimitedError);
    c.finish();
    expect(await rc).toBe('ok');
    a.finish();
    expect(await ra).toBe('ok');
    await tick();
    expect(b.started).toBe(true);
    b.finish();
    expect(await rb).toBe('ok');
    expect(budget.load).toEqual({ running: 0, queued: 0, users: 0 });
  });

  it('a query dearer than the budget runs alone; a failing task gives its budget back', async () => {
    const budget = new QueryBudget({ perNode: 100, perUser: 100, maxQueued: 0 });
    expect(await budget.run('u', 5_000, () => 'alone')).toBe('alone');
    await expect(budget.run('u', 100, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await budget.run('u', 100, () => 'again')).toBe('again');
    expect(budget.load).toEqual({ running: 0, queued: 0, users: 0 });
  });
});
