import type { Redis } from 'ioredis';
import type { Logger } from '../common/logger.js';
import { openRedis, redactRedisUrl } from '../common/redisTarget.js';

/**
 * How the node and the CLI speak of Redis being away: in a sentence, not in stack traces.
 * ioredis reconnects by itself and reports every failed attempt as an 'error' event (several a
 * second per connection, and a node has four); those are the same news over and over.
 */

/** The URL without its passwords, for messages (a redis+sentinel:// set too). */
export const redactUrl = redactRedisUrl;

/** The short reason of an error (`connect ECONNREFUSED 127.0.0.1:6379`), no stack. */
export const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error)) || 'no answer';

/**
 * The `onError` handler for every Redis connection of a node: nothing while the node is still
 * waiting for Redis at start (waitForRedis speaks then), afterwards each distinct message at most
 * once per `repeatMs`, without a stack.
 */
export function redisErrorLog(
  log: Logger,
  repeatMs = 10_000,
): { onError: (error: unknown) => void; started: () => void; last: () => string | null } {
  let waiting = true;
  let last: string | null = null;
  const lastSaid = new Map<string, number>();
  return {
    onError(error) {
      const message = reason(error);
      last = message;
      if (waiting) return;
      const now = Date.now();
      if ((lastSaid.get(message) ?? -Infinity) > now - repeatMs) return;
      lastSaid.set(message, now);
      if (lastSaid.size > 100) lastSaid.clear();
      log.warn({ error: message }, 'redis error');
    },
    started() {
      waiting = false;
    },
    /** The last connection error seen (the real reason a ping times out). */
    last: () => last,
  };
}

export class RedisWaitTimeout extends Error {
  constructor(where: string, waitMs: number) {
    super(`Redis at ${where} did not answer within ${Math.round(waitMs / 1000)} s (REDIS_WAIT_MS); exiting`);
    this.name = 'RedisWaitTimeout';
  }
}

const timeout = (ms: number) => new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref());

/**
 * Resolves once `ping` succeeds. If the first try fails: says "waiting for Redis at …" once, then
 * "still waiting" every `remindEveryMs`, and tries every second — for ever, or until `waitMs`
 * (when > 0), then rejects with RedisWaitTimeout. `signal`: stop waiting (the node is stopping).
 */
export async function waitForRedis(options: {
  ping: () => Promise<unknown>;
  url: string;
  log: Logger;
  /** 0: for ever. */
  waitMs: number;
  /** Where /healthz answers meanwhile, for the message. */
  healthUrl: string;
  /** The connection's own last error, a better reason than the ping's ("max retries reached"). */
  why?: () => string | null;
  signal?: AbortSignal;
  remindEveryMs?: number;
}): Promise<void> {
  const { log, waitMs, remindEveryMs = 10_000 } = options;
  const where = redactUrl(options.url);
  const started = Date.now();
  const attempt = () =>
    Promise.race([options.ping(), timeout(2_000)]).then(
      () => null,
      (error: unknown) => options.why?.() ?? reason(error),
    );
  let last = await attempt();
  if (last === null) return;
  log.warn(
    { redis: where, waitMs: waitMs || 'for ever', error: last },
    `waiting for Redis at ${where} (answering /healthz on ${options.healthUrl} meanwhile; ${waitMs ? `giving up after ${Math.round(waitMs / 1000)} s` : 'until it answers'})`,
  );
  let remindAt = started + remindEveryMs;
  for (;;) {
    if (options.signal?.aborted) throw new Error('stopped while waiting for Redis');
    if (waitMs > 0 && Date.now() - started >= waitMs) throw new RedisWaitTimeout(where, waitMs);
    await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
    last = await attempt();
    if (last === null) break;
    if (Date.now() >= remindAt) {
      remindAt += remindEveryMs;
      log.warn({ redis: where, error: last }, `still waiting for Redis at ${where} (${Math.round((Date.now() - started) / 1000)} s)`);
    }
  }
  log.info({ redis: where, waitedMs: Date.now() - started }, `Redis at ${where} answers; starting`);
}

/**
 * For one-shot commands (the CLI): connects, or fails with one line saying where and why,
 * instead of letting ioredis retry and print every attempt's stack.
 */
export async function connectRedis(url: string, connectTimeoutMs = 5_000): Promise<Redis> {
  // No retries while connecting, to the Redis or (with Sentinel) to the sentinels: one answer.
  const redis = openRedis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: connectTimeoutMs,
    retryStrategy: () => null,
    sentinelRetryStrategy: () => null,
  });
  let lastError: unknown = null;
  redis.on('error', (error) => (lastError = error));
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(`Redis at ${redactUrl(url)} does not answer (${reason(lastError ?? error)}): start it, or check --redis-url / REDIS_URL`);
  }
  // Connected: from here a dropped connection is retried as usual (a rebuild takes a while).
  redis.options.retryStrategy = (times) => Math.min(times * 200, 2_000);
  redis.options.sentinelRetryStrategy = (times) => Math.min(times * 200, 2_000);
  return redis;
}
