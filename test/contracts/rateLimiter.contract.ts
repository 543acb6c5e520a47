import { afterEach, describe, expect, it } from 'vitest';
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
