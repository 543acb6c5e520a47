import { afterEach, describe, expect, it } from 'vitest';
import type { BackoffPolicy, FailureBackoff } from '../../src/limits/failureBackoff.js';
import type { RateLimiter } from '../../src/limits/rateLimiter.js';

export interface RateLimiterFixture {
  /** `make(limit, windowMs)` builds a limiter; `reopen` one that sees the same state (a restart or another node). */
  make: (limit: number, windowMs: number) => RateLimiter;
  cleanup: () => Promise<void>;
}

/** The rate limiter's contract, checked against every adapter. */
export function rateLimiterContract(name: string, create: () => Promise<RateLimiterFixture>): void {
  describe(`RateLimiter contract: ${name}`, () => {
    let fixture: RateLimiterFixture | null = null;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = null;
    });

    it('allows a burst of `limit`, then refuses with how long to wait', async () => {
      fixture = await create();
      const limiter = fixture.make(5, 10_000);
      const results = [];
      for (let i = 0; i < 6; i++) results.push(await limiter.consume('u1'));
      expect(results.slice(0, 5).every((r) => r.allowed)).toBe(true);
      expect(results[5]!.allowed).toBe(false);
      expect(results[5]!.retryAfterMs).toBeGreaterThan(1_000);
      expect(results[5]!.retryAfterMs).toBeLessThanOrEqual(2_000);
      expect((await limiter.consume('u2')).allowed).toBe(true);
    });

    it('allows again after the interval', async () => {
      fixture = await create();
      const limiter = fixture.make(2, 200);
      expect((await limiter.consume('u')).allowed).toBe(true);
      expect((await limiter.consume('u')).allowed).toBe(true);
      expect((await limiter.consume('u')).allowed).toBe(false);
      await new Promise((r) => setTimeout(r, 120));
      expect((await limiter.consume('u')).allowed).toBe(true);
    });

    it('is off with a limit of 0', async () => {
      fixture = await create();
      const limiter = fixture.make(0, 1_000);
      for (let i = 0; i < 100; i++) expect((await limiter.consume('u')).allowed).toBe(true);
    });
  });
}

export interface FailureBackoffFixture {
  /** `make(policy)` builds a backoff; two made by one fixture see the same state (a restart, or another node). */
  make: (policy: BackoffPolicy) => FailureBackoff;
  cleanup: () => Promise<void>;
}

/** The wrong-password delays' contract (src/limits/failureBackoff.ts), checked against every adapter. */
export function failureBackoffContract(name: string, create: () => Promise<FailureBackoffFixture>): void {
  describe(`FailureBackoff contract: ${name}`, () => {
    let fixture: FailureBackoffFixture | null = null;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = null;
    });
    const policy: BackoffPolicy = { freeFailures: 2, baseDelayMs: 200, maxDelayMs: 800, forgetAfterMs: 60_000 };
    const near = (actual: number, expected: number) => {
      expect(actual).toBeGreaterThan(expected - 100);
      expect(actual).toBeLessThanOrEqual(expected);
    };

    it('free failures wait nothing; then each failure doubles the wait, up to the cap', async () => {
      fixture = await create();
      const backoff = fixture.make(policy);
      expect(await backoff.wait('k')).toBe(0);
      await backoff.fail('k');
      await backoff.fail('k');
      expect(await backoff.wait('k')).toBe(0);
      const waits = [];
      for (let i = 0; i < 4; i++) {
        await backoff.fail('k');
        waits.push(await backoff.wait('k'));
      }
      near(waits[0]!, 200);
      near(waits[1]!, 400);
      near(waits[2]!, 800);
      near(waits[3]!, 800);
    });

    it('the wait runs out; keys are apart', async () => {
      fixture = await create();
      const backoff = fixture.make({ ...policy, freeFailures: 0, baseDelayMs: 150 });
      await backoff.fail('k');
      expect(await backoff.wait('k')).toBeGreaterThan(0);
      expect(await backoff.wait('other')).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await backoff.wait('k')).toBe(0);
    });

    it('a key quiet for forgetAfterMs (after its last wait) starts afresh', async () => {
      fixture = await create();
      const backoff = fixture.make({ ...policy, freeFailures: 1, baseDelayMs: 50, forgetAfterMs: 150 });
      await backoff.fail('k');
      await backoff.fail('k');
      expect(await backoff.wait('k')).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await backoff.fail('k'); // the first failure again: free
      expect(await backoff.wait('k')).toBe(0);
    });

    it('two backoffs of one fixture share the count (another node, or the same node after a restart)', async () => {
      fixture = await create();
      const one = fixture.make(policy);
      const two = fixture.make(policy);
      if (one === two) return;
      await one.fail('k');
      await two.fail('k');
      await one.fail('k');
      expect(await two.wait('k')).toBeGreaterThan(0);
    });
  });
}
