import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gcra } from '../../src/limits/gcra.js';
import { createMemoryRateLimiter } from '../../src/limits/memoryRateLimiter.js';
import type { RateLimiter } from '../../src/limits/rateLimiter.js';

describe('gcra', () => {
  const LIMIT = 5;
  const WINDOW = 10_000; // one every 2 s after a burst of 5
  const INTERVAL = WINDOW / LIMIT;

  /** Runs `count` actions at `now`, threading the state; returns the decisions and the last state. */
  function burst(count: number, now: number, tat?: number) {
    const decisions = [];
    for (let i = 0; i < count; i++) {
      const decision = gcra(tat, now, LIMIT, WINDOW);
      decisions.push(decision);
      tat = decision.tat;
    }
    return { decisions, tat };
  }

  it('allows a burst of `limit` at once, then refuses with retryAfterMs = one interval', () => {
    const { decisions } = burst(LIMIT + 1, 0);
    expect(decisions.slice(0, LIMIT).every((d) => d.allowed && d.retryAfterMs === 0)).toBe(true);
    expect(decisions[LIMIT]).toMatchObject({ allowed: false, retryAfterMs: INTERVAL });
  });

  it('a refusal leaves the state unchanged', () => {
    const { tat } = burst(LIMIT, 0);
    const refused = gcra(tat, 0, LIMIT, WINDOW);
    expect(refused.allowed).toBe(false);
    expect(refused.tat).toBe(tat);
  });

  it('retryAfterMs shrinks as time passes, and is exactly enough', () => {
    const { tat } = burst(LIMIT, 0);
    const refused = gcra(tat, 500, LIMIT, WINDOW);
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: INTERVAL - 500 });
    expect(gcra(tat, 500 + refused.retryAfterMs - 1, LIMIT, WINDOW).allowed).toBe(false);
    expect(gcra(tat, 500 + refused.retryAfterMs, LIMIT, WINDOW).allowed).toBe(true);
  });

  it('after the burst, one action per interval', () => {
    let { tat } = burst(LIMIT, 0);
    for (let k = 1; k <= 3; k++) {
      const allowed = gcra(tat, k * INTERVAL, LIMIT, WINDOW);
      expect(allowed.allowed).toBe(true);
      tat = allowed.tat;
      expect(gcra(tat, k * INTERVAL, LIMIT, WINDOW)).toMatchObject({ allowed: false, retryAfterMs: INTERVAL });
    }
  });

  it('recovers the full burst after a whole window of quiet', () => {
    const { tat } = burst(LIMIT, 0);
    const { decisions } = burst(LIMIT + 1, WINDOW, tat);
    expect(decisions.filter((d) => d.allowed)).toHaveLength(LIMIT);
  });

  it('a stale state in the past counts as no state', () => {
    expect(gcra(-1_000_000, 0, LIMIT, WINDOW)).toEqual({ allowed: true, retryAfterMs: 0, tat: INTERVAL });
  });

  it('limit 1: one action per window', () => {
    const first = gcra(undefined, 0, 1, WINDOW);
    expect(first.allowed).toBe(true);
    expect(gcra(first.tat, 1, 1, WINDOW)).toMatchObject({ allowed: false, retryAfterMs: WINDOW - 1 });
    expect(gcra(first.tat, WINDOW, 1, WINDOW).allowed).toBe(true);
  });
});

describe('memory rate limiter', () => {
  const T0 = new Date('2030-01-01T00:00:00Z').getTime();
  let limiter: RateLimiter | undefined;

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(async () => {
    await limiter?.close();
    limiter = undefined;
    vi.useRealTimers();
  });

  const consumeN = async (n: number, key = 'u1', now?: number) => {
    const results = [];
    for (let i = 0; i < n; i++) results.push(await limiter!.consume(key, now));
    return results;
  };

  it('limit 0 turns limiting off', async () => {
    limiter = createMemoryRateLimiter({ limit: 0, windowMs: 1_000 });
    for (let i = 0; i < 50; i++) limiter.record('u1', T0);
    const results = await consumeN(1_000);
    expect(results.every((r) => r.allowed && r.retryAfterMs === 0)).toBe(true);
  });

  it('allows `limit` per key, then refuses with retryAfterMs', async () => {
    limiter = createMemoryRateLimiter({ limit: 3, windowMs: 3_000 });
    const results = await consumeN(4);
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[3]!.retryAfterMs).toBe(1_000);
  });

  it('keys are independent', async () => {
    limiter = createMemoryRateLimiter({ limit: 2, windowMs: 1_000 });
    await consumeN(3, 'u1');
    expect((await limiter.consume('u2')).allowed).toBe(true);
  });

  it('uses Date.now() when no time is given, and recovers as time passes', async () => {
    limiter = createMemoryRateLimiter({ limit: 2, windowMs: 2_000 });
    expect((await consumeN(3)).map((r) => r.allowed)).toEqual([true, true, false]);
    vi.advanceTimersByTime(1_000);
    expect((await consumeN(2)).map((r) => r.allowed)).toEqual([true, false]);
    vi.advanceTimersByTime(2_000);
    expect((await consumeN(3)).map((r) => r.allowed)).toEqual([true, true, false]);
  });

  it('the periodic sweep keeps keys that are still limited', async () => {
    limiter = createMemoryRateLimiter({ limit: 1, windowMs: 1_000 }); // sweeps every second
    for (let i = 0; i < 5; i++) limiter.record('u1', T0); // state: T0 + 5 s
    await limiter.consume('u2'); // state: T0 + 1 s, swept at T0 + 1 s
    vi.advanceTimersByTime(1_000);
    expect(await limiter.consume('u1')).toMatchObject({ allowed: false, retryAfterMs: 4_000 });
    expect(await limiter.consume('u2')).toMatchObject({ allowed: true });
  });

  it('record replays past actions, so a restarted limiter keeps the limit', async () => {
    const before = createMemoryRateLimiter({ limit: 3, windowMs: 10_000 });
    const sent: number[] = [];
    for (let i = 0; i < 3; i++) {
      expect((await before.consume('u1')).allowed).toBe(true);
      sent.push(Date.now());
      vi.advanceTimersByTime(100);
    }
    const refusedBefore = await before.consume('u1');
    await before.close();

    limiter = createMemoryRateLimiter({ limit: 3, windowMs: 10_000 });
    for (const at of sent) limiter.record('u1', at);
    const refusedAfter = await limiter.consume('u1');
    expect(refusedBefore.allowed).toBe(false);
    expect(refusedAfter).toEqual(refusedBefore);
  });

  it('record ignores actions older than the window', async () => {
    limiter = createMemoryRateLimiter({ limit: 2, windowMs: 1_000 });
    limiter.record('u1', T0 - 1_000);
    limiter.record('u1', T0 - 5_000);
    expect((await consumeN(3)).map((r) => r.allowed)).toEqual([true, true, false]);
  });

  it('record counts even past the burst (the limit may have been lowered), never refusing', async () => {
    limiter = createMemoryRateLimiter({ limit: 2, windowMs: 2_000 });
    for (let i = 0; i < 4; i++) limiter.record('u1', T0 - 10);
    // Four actions at T0-10 push the state to T0-10 + 4 s: the next action waits ~3 s, not 1 s.
    const refused = await limiter.consume('u1');
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBe(2_990);
  });
});
