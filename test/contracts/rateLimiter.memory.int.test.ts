import { createMemoryRateLimiter } from '../../src/limits/memoryRateLimiter.js';
import type { RateLimiter } from '../../src/limits/rateLimiter.js';
import { rateLimiterContract } from './rateLimiter.contract.js';

rateLimiterContract('memory', async () => {
  const made: RateLimiter[] = [];
  return {
    make: (limit, windowMs) => {
      const limiter = createMemoryRateLimiter({ limit, windowMs });
      made.push(limiter);
      return limiter;
    },
    cleanup: async () => void (await Promise.all(made.map((l) => l.close()))),
  };
});
