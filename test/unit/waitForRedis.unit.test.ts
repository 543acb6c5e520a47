import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../common/logger.js';
import { RedisWaitTimeout, redactUrl, redisErrorLog, waitForRedis } from '../../src/redisConnection.js';

/** A logger that keeps what it was told, by level. */
function recorder() {
  const lines: Array<{ level: string; msg: string }> = [];
  const at = (level: string) => (...args: unknown[]) => lines.push({ level, msg: String(args.find((a) => typeof a === 'string') ?? '') });
  return { lines, log: { warn: at('warn'), info: at('info'), error: at('error') } as unknown as Logger };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('waitForRedis', () => {
  it('says nothing when Redis answers at once', async () => {
    const { lines, log } = recorder();
    await waitForRedis({ ping: async () => 'PONG', url: 'redis://127.0.0.1:6379', log, waitMs: 0, healthUrl: 'http://127.0.0.1:4000' });
    expect(lines).toEqual([]);
  });

  it('says "waiting" once, "still waiting" every remindEveryMs, and "answers" when it does; the password never shows', async () => {
    vi.useFakeTimers();
    const { lines, log } = recorder();
    let up = false;
    const waiting = waitForRedis({
      ping: async () => {
        if (!up) throw new Error('Reached the max retries per request limit');
        return 'PONG';
      },
      why: () => 'connect ECONNREFUSED 127.0.0.1:6390',
      url: 'redis://:secret@127.0.0.1:6390',
      log,
      waitMs: 0,
      healthUrl: 'http://127.0.0.1:4000',
      remindEveryMs: 5_000,
    });
    await vi.advanceTimersByTimeAsync(12_000);
    up = true;
    await vi.advanceTimersByTimeAsync(1_500);
    await waiting;
    expect(lines.map((l) => l.msg.replace(/\(\d+ s\)/, '(N s)'))).toEqual([
      'waiting for Redis at redis://:***@127.0.0.1:6390 (answering /healthz on http://127.0.0.1:4000 meanwhile; until it answers)',
      'still waiting for Redis at redis://:***@127.0.0.1:6390 (N s)',
      'still waiting for Redis at redis://:***@127.0.0.1:6390 (N s)',
      'Redis at redis://:***@127.0.0.1:6390 answers; starting',
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret');
  });

  it('with waitMs: gives up with RedisWaitTimeout, whose message is the one line to print', async () => {
    vi.useFakeTimers();
    const { log } = recorder();
    const waiting = waitForRedis({ ping: () => Promise.reject(new Error('down')), url: 'redis://127.0.0.1:6390', log, waitMs: 3_000, healthUrl: 'http://x' });
    const outcome = waiting.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(5_000);
    const error = await outcome;
    expect(error).toBeInstanceOf(RedisWaitTimeout);
    expect((error as Error).message).toBe('Redis at redis://127.0.0.1:6390 did not answer within 3 s (REDIS_WAIT_MS); exiting');
  });
});

describe('redisErrorLog', () => {
  it('is quiet until started, then says each distinct error once per window', () => {
    const { lines, log } = recorder();
    const errors = redisErrorLog(log, 10_000);
    for (let i = 0; i < 5; i++) errors.onError(new Error('connect ECONNREFUSED'));
    expect(lines).toEqual([]);
    expect(errors.last()).toBe('connect ECONNREFUSED');
    errors.started();
    for (let i = 0; i < 5; i++) errors.onError(new Error('connect ECONNREFUSED'));
    errors.onError(new Error('Connection is closed.'));
    expect(lines.map((l) => l.level)).toEqual(['warn', 'warn']);
  });

  it('redacts passwords from URLs', () => {
    expect(redactUrl('redis://user:pw@host:6379/0')).toBe('redis://user:***@host:6379/0');
    expect(redactUrl('redis://host:6379')).toBe('redis://host:6379');
  });
});
