import type { FailureBackoff } from '../../src/limits/failureBackoff.js';
import { createMemoryFailureBackoff } from '../../src/limits/memoryFailureBackoff.js';
import { createMemoryRateLimiter } from '../../src/limits/memoryRateLimiter.js';
import type { RateLimiter } from '../../src/limits/rateLimiter.js';
import { failureBackoffContract, rateLimiterContract } from './rateLimiter.contract.js';

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

// In memory, "another node" cannot share a count: each make is one process's own backoff.
failureBackoffContract('memory', async () => {
  const made: FailureBackoff[] = [];
  return {
    make: (policy) => {
      const backoff = createMemoryFailureBackoff(policy);
      made.push(backoff);
      return made.length > 1 ? made[0]! : backoff;
    },
    cleanup: async () => void (await Promise.all(made.map((b) => b.close()))),
  };
});
