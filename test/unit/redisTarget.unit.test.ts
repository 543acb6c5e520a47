import { describe, expect, it } from 'vitest';
import { isReadOnlyError, openRedis, parseRedisTarget, redactRedisUrl, RedisUrlError } from '../../common/redisTarget.js';
import { loadConfig } from '../../src/config.js';
import { loadBalancerConfig } from '../../balancer/config.js';
import { connectRedis } from '../../src/redisConnection.js';

describe('REDIS_URL: one Redis or a Sentinel set', () => {
  it('a redis:// or rediss:// URL is one Redis, handed to ioredis as written', () => {
    expect(parseRedisTarget('redis://127.0.0.1:6379')).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379' });
    expect(parseRedisTarget(' rediss://u:p@cache.example:6380/2 ')).toEqual({ kind: 'single', url: 'rediss://u:p@cache.example:6380/2' });
  });

  it('redis+sentinel:// lists the sentinels (26379 when no port) and names the master', () => {
    expect(parseRedisTarget('redis+sentinel://10.0.0.1:26379,10.0.0.2,[::1]:26380/mymaster')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'mymaster',
      db: 0,
    });
  });

  it('with credentials, a database and the sentinels own password', () => {
    expect(parseRedisTarget('redis+sentinel://app:s%40cret@s1:1,s2:2/chat-master/3?sentinelPassword=x%2By')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 1 },
        { host: 's2', port: 2 },
      ],
      name: 'chat-master',
      db: 3,
      username: 'app',
      password: 's@cret',
      sentinelPassword: 'x+y',
    });
    expect(parseRedisTarget('redis+sentinel://:pw@s1/m')).toMatchObject({ password: 'pw', name: 'm' });
    expect(parseRedisTarget('redis+sentinel://s1/m/')).toMatchObject({ name: 'm', db: 0 });
    expect(parseRedisTarget('REDIS+SENTINEL://s1/m')).toMatchObject({ kind: 'sentinel', name: 'm' });
  });

  it.each([
    ['redis+sentinel://s1:26379', /master name/],
    ['redis+sentinel://s1:26379/', /master name/],
    ['redis+sentinel:///mymaster', /names no sentinel/],
    ['redis+sentinel://s1:26379,,s2/m', /sentinel "" is not host/],
    ['redis+sentinel://s1:0/m', /port must be 1–65535/],
    ['redis+sentinel://s1:70000/m', /port must be 1–65535/],
    ['redis+sentinel://s1:abc/m', /not host or host:port/],
    ['redis+sentinel://s1/m/x', /database "x"/],
    ['redis+sentinel://s1/m/1/2', /\/masterName or \/masterName\/db/],
    ['redis+sentinel://s1/m?password=x', /unknown option "password"/],
    ['redis+sentinel://s1/%E0%A4%A', /percent-encoding/],
    ['http://127.0.0.1:6379', /not http:/],
    ['not a url', /must be a redis:\/\//],
  ])('%s is refused: %s', (url, why) => {
    expect(() => parseRedisTarget(url)).toThrow(RedisUrlError);
    expect(() => parseRedisTarget(url)).toThrow(why);
  });

  it('passwords never show in messages', () => {
    expect(redactRedisUrl('redis://user:pw@host:6379/0')).toBe('redis://user:***@host:6379/0');
    expect(redactRedisUrl('redis+sentinel://app:pw@s1,s2:26380/mymaster/2?sentinelPassword=sp')).toBe(
      'redis+sentinel://app:***@s1:26379,s2:26380/mymaster/2?sentinelPassword=***',
    );
    expect(redactRedisUrl('redis+sentinel://[::1]:5/m')).toBe('redis+sentinel://[::1]:5/m');
    expect(redactRedisUrl('redis+sentinel://s1')).toBe('an invalid URL');
  });

  it('the node and the balancer accept a Sentinel set and refuse a bad one, naming the variable', () => {
    const url = 'redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/mymaster';
    expect(loadConfig({ REDIS_URL: url }).REDIS_URL).toBe(url);
    expect(loadBalancerConfig({ REDIS_URL: url }).REDIS_URL).toBe(url);
    expect(() => loadConfig({ REDIS_URL: 'redis+sentinel://127.0.0.1:26379' })).toThrow(/REDIS_URL=.*master name/);
    expect(() => loadBalancerConfig({ REDIS_URL: 'redis+sentinel://127.0.0.1:26379' })).toThrow(/REDIS_URL=.*master name/);
  });

  it('a Sentinel connection asks for the master, follows +switch-master and reconnects on READONLY; the caller’s options win', () => {
    const redis = openRedis('redis+sentinel://:pw@127.0.0.1:1,127.0.0.1:2/mymaster/1', { lazyConnect: true, enableReadyCheck: false });
    try {
      expect(redis.options).toMatchObject({
        sentinels: [
          { host: '127.0.0.1', port: 1 },
          { host: '127.0.0.1', port: 2 },
        ],
        name: 'mymaster',
        db: 1,
        password: 'pw',
        role: 'master',
        failoverDetector: true,
        enableReadyCheck: false,
      });
      const readOnly = new Error("READONLY You can't write against a read only replica.");
      expect(redis.options.reconnectOnError?.(readOnly)).toBe(1);
      expect(redis.options.reconnectOnError?.(new Error('ERR wrong number of arguments'))).toBe(false);
      expect(isReadOnlyError(readOnly)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('the CLI with sentinels that do not answer: one line naming the set (password hidden), no retries', async () => {
    const started = Date.now();
    await expect(connectRedis('redis+sentinel://:secret@127.0.0.1:1,127.0.0.1:2/mymaster', 2_000)).rejects.toThrow(
      /^Redis at redis\+sentinel:\/\/:\*\*\*@127\.0\.0\.1:1,127\.0\.0\.1:2\/mymaster does not answer \(All sentinels are unreachable and retry is disabled\.[^)]*\): start it, or check --redis-url \/ REDIS_URL$/,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a single Redis keeps its URL and also reconnects on READONLY (a managed primary that moved)', () => {
    const redis = openRedis('redis://127.0.0.1:1/4', { lazyConnect: true });
    try {
      expect(redis.options).toMatchObject({ host: '127.0.0.1', port: 1, db: 4 });
      expect(redis.options.sentinels).toBeFalsy();
      expect(redis.options.reconnectOnError?.(new Error('READONLY …'))).toBe(1);
    } finally {
      redis.disconnect();
    }
  });
});
