import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { addressKey } from '../../src/limits/addressKey.js';
import { delayAfter, type BackoffPolicy } from '../../src/limits/failureBackoff.js';
import { GateFullError, createGate } from '../../src/limits/gate.js';
import { createMemoryFailureBackoff } from '../../src/limits/memoryFailureBackoff.js';
import { createMemoryRateLimiter } from '../../src/limits/memoryRateLimiter.js';
import type { RateLimiter } from '../../src/limits/rateLimiter.js';
import { WRITE_KINDS, createWriteLimiter, writeBudgets, writeOf, type WriteLimitSettings } from '../../src/limits/writeLimits.js';
import { loadConfig } from '../../src/config.js';
import { createAbuseLimits } from '../../src/limits/abuseLimits.js';
import type { RoomEvent } from '../../src/domain/events.js';

const settings = (overrides: Partial<WriteLimitSettings> = {}): WriteLimitSettings => ({ ...loadConfig({}), ...overrides });

describe('writeBudgets', () => {
  it('one budget per kind of write, from its own setting', () => {
    const budgets = writeBudgets(settings());
    expect(Object.keys(budgets).sort()).toEqual([...WRITE_KINDS].sort());
    expect(budgets.send).toEqual({ limit: 20, windowMs: 10_000 });
    expect(budgets.edit).toEqual({ limit: 30, windowMs: 60_000 });
    expect(budgets.membership).toEqual({ limit: 20, windowMs: 600_000 });
  });

  it('per-address defaults a person never meets: a burst of at least 100, then at least one a second', () => {
    const budgets = writeBudgets(settings());
    for (const kind of ['sessionPerAddress', 'roomPerAddress'] as const) {
      expect(budgets[kind].limit).toBeGreaterThanOrEqual(100);
      expect(budgets[kind].windowMs / budgets[kind].limit).toBeLessThanOrEqual(1_000);
    }
  });

  it('RATE_LIMIT_MESSAGES=0 turns every limit off, per user and per address', () => {
    const budgets = writeBudgets(settings({ RATE_LIMIT_MESSAGES: 0 }));
    for (const kind of WRITE_KINDS) expect(budgets[kind].limit, kind).toBe(0);
  });
});

describe('createWriteLimiter', () => {
  const made: RateLimiter[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((limiter) => limiter.close()));
  });

  it('each kind counts apart; send keeps the key space it always had, the others get their own', async () => {
    const namespaces: Array<string | undefined> = [];
    const budgets = writeBudgets(settings({ RATE_LIMIT_EDITS: { limit: 1, windowMs: 60_000 } }));
    const limiter = createWriteLimiter(budgets, (budget, namespace) => {
      namespaces.push(namespace);
      const made1 = createMemoryRateLimiter(budget);
      made.push(made1);
      return made1;
    });
    expect(namespaces[WRITE_KINDS.indexOf('send')]).toBeUndefined();
    expect(new Set(namespaces.filter(Boolean)).size).toBe(WRITE_KINDS.length - 1);
    expect((await limiter.consume('edit', 'u')).allowed).toBe(true);
    expect((await limiter.consume('edit', 'u')).allowed).toBe(false);
    expect((await limiter.consume('delete', 'u')).allowed).toBe(true);
    expect((await limiter.consume('send', 'u')).allowed).toBe(true);
  });
});

describe('writeOf (the memory adapter’s replay)', () => {
  const event = (type: string, data: Record<string, unknown>, seq = 5) => ({ id: 'e', type, data, seq, position: seq, at: 1 }) as unknown as RoomEvent;
  const user = { id: 'u1', name: 'u' };

  it('posts, room creations, joins and leaves name their writer', () => {
    expect(writeOf(event('MessagePosted', { author: user }))).toEqual({ kind: 'send', key: 'u1' });
    expect(writeOf(event('RoomCreated', { createdBy: user }, 1))).toEqual({ kind: 'createRoom', key: 'u1' });
    expect(writeOf(event('MemberJoined', { user }))).toEqual({ kind: 'membership', key: 'u1' });
    expect(writeOf(event('MemberLeft', { user }))).toEqual({ kind: 'membership', key: 'u1' });
  });

  it('a rename names its user and the change it made (one rename writes one event per room)', () => {
    expect(writeOf(event('MemberRenamed', { user: { id: 'u1', name: 'new' }, previousName: 'old' }))).toEqual({ kind: 'rename', key: 'u1', change: 'old\u0000new' });
  });

  it('the creator’s own join (seq 2) is part of creating the room; edits and deletes do not name their author', () => {
    expect(writeOf(event('MemberJoined', { user }, 2))).toBeNull();
    expect(writeOf(event('MessageEdited', { messageId: 'm' }))).toBeNull();
    expect(writeOf(event('MessageDeleted', { messageId: 'm' }))).toBeNull();
  });
});

describe('the memory adapters’ replay at start', () => {
  const renamed = (roomId: string, previousName: string, name: string, at: number) =>
    ({ id: `${roomId}-${at}`, type: 'MemberRenamed', data: { roomId, user: { id: 'u1', name }, previousName }, seq: 9, position: at, at }) as unknown as RoomEvent;

  it('counts one rename once, though it wrote an event into each of the user’s rooms', async () => {
    const now = Date.now();
    const abuse = createAbuseLimits({ ...loadConfig({}), RATE_LIMIT_RENAMES: { limit: 3, windowMs: 3_600_000 } }, null);
    try {
      // Two renames (ann → bea in three rooms, bea → ann in two): two of the budget of three.
      abuse.replay([renamed('r1', 'ann', 'bea', now - 3), renamed('r2', 'ann', 'bea', now - 3), renamed('r3', 'ann', 'bea', now - 2)]);
      abuse.replay([renamed('r1', 'bea', 'ann', now - 1), renamed('r2', 'bea', 'ann', now - 1)]);
      expect((await abuse.limiter.consume('rename', 'u1')).allowed).toBe(true);
      expect((await abuse.limiter.consume('rename', 'u1')).allowed).toBe(false);
    } finally {
      await abuse.close();
    }
  });
});

describe('failure delays', () => {
  const policy: BackoffPolicy = { freeFailures: 3, baseDelayMs: 1_000, maxDelayMs: 8_000, forgetAfterMs: 60_000 };

  it('delayAfter: free failures, then doubling from the base up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => delayAfter(n, policy))).toEqual([0, 0, 0, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  describe('memory adapter', () => {
    const T0 = new Date('2030-01-01T00:00:00Z').getTime();
    beforeEach(() => void vi.useFakeTimers({ now: T0 }));
    afterEach(() => void vi.useRealTimers());

    it('waits after the free failures, shrinking as time passes; keys apart', async () => {
      const backoff = createMemoryFailureBackoff(policy);
      for (let i = 0; i < 3; i++) await backoff.fail('k');
      expect(await backoff.wait('k')).toBe(0);
      await backoff.fail('k');
      expect(await backoff.wait('k')).toBe(1_000);
      vi.advanceTimersByTime(400);
      expect(await backoff.wait('k')).toBe(600);
      expect(await backoff.wait('other')).toBe(0);
      await backoff.close();
    });

    it('forgets a key after a quiet period past its last delay', async () => {
      const backoff = createMemoryFailureBackoff(policy);
      for (let i = 0; i < 5; i++) await backoff.fail('k'); // the 5th waits 2 s
      vi.advanceTimersByTime(2_000 + 60_000);
      await backoff.fail('k'); // counted afresh: the first failure again
      expect(await backoff.wait('k')).toBe(0);
      await backoff.close();
    });
  });
});

describe('createGate', () => {
  it('runs at most `concurrency` at once, queues up to `maxQueued` in order, refuses past that', async () => {
    const gate = createGate({ concurrency: 2, maxQueued: 2 });
    const releases: Array<() => void> = [];
    const started: number[] = [];
    const task = (n: number) => () =>
      new Promise<number>((resolve) => {
        started.push(n);
        releases.push(() => resolve(n));
      });
    const runs = [1, 2, 3, 4].map((n) => gate.run(task(n)));
    await Promise.resolve();
    expect(started).toEqual([1, 2]);
    expect(gate.queued).toBe(2);
    await expect(gate.run(task(5))).rejects.toBeInstanceOf(GateFullError);
    releases.shift()!();
    await runs[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([1, 2, 3]);
    while (releases.length) {
      releases.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await Promise.all(runs)).toEqual([1, 2, 3, 4]);
    expect(gate.running).toBe(0);
  });

  it('a task that throws frees its slot', async () => {
    const gate = createGate({ concurrency: 1, maxQueued: 0 });
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 'next')).toBe('next');
  });
});

describe('addressKey', () => {
  it('an IPv4 address as it is, an IPv4-mapped one as its IPv4', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('an IPv6 address by its /64: one host cannot make itself 2^64 budgets', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:DB8:0001:0002::')).toBe('2001:db8:1:2::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});
