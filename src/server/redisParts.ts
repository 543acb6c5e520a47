import { createRedisBroker } from '../broker/redisBroker.js';
import type { Config } from '../config.js';
import type { Logger } from '../../common/logger.js';
import { createRedisPresenceStore } from '../presence/redisPresenceStore.js';
import { createRedisLease } from '../projector/lease.js';
import { createRedisReadModelStore } from '../readModels/redisReadModelStore.js';
import { projectorLeaseKey } from '../readModels/redisReadModelLayout.js';
import { redisErrorLog } from '../redisConnection.js';
import { openRedis } from '../../common/redisTarget.js';
import { announceNode } from './announce.js';

export type RedisParts = ReturnType<typeof createRedisParts>;

/** Everything that must be shared between nodes, kept in Redis. */
export function createRedisParts(config: Config, url: string, log: Logger) {
  const prefix = config.REDIS_PREFIX;
  // Quiet while the node waits for Redis at start; then each distinct error once per 10 s.
  const errors = redisErrorLog(log);
  const onError = errors.onError;
  // Queries and the projector's fenced writes each get a connection (WATCH is per connection);
  // the broker opens its own two (a subscriber connection can do nothing else).
  // commandTimeout: a Redis that stops answering (paused, partitioned) must fail these calls,
  // not hang them; the send path treats Redis as optional (the log is the source of truth).
  // `url` may name a Sentinel set: every connection then follows a failover (common/redisTarget.ts).
  const redis = openRedis(url, { maxRetriesPerRequest: 2, commandTimeout: 2_000 });
  const writer = openRedis(url, { maxRetriesPerRequest: 2, commandTimeout: 5_000 });
  redis.on('error', onError);
  writer.on('error', onError);
  const lease = createRedisLease({ redis: writer, key: projectorLeaseKey(prefix), holder: config.NODE_ID, ttlMs: 5_000 });
  return {
    url,
    errors,
    ping: () => redis.ping(),
    lease,
    broker: createRedisBroker({ url, prefix, onError }),
    readModels: createRedisReadModelStore({ redis, writer, prefix, fence: () => lease.current() }),
    presence: createRedisPresenceStore({ redis, prefix, nodeId: config.NODE_ID, onError }),
    limits: { redis, prefix, onError },
    announce: (nodeUrl: string) => announceNode({ redis, prefix, nodeId: config.NODE_ID, url: nodeUrl, onError }),
    close: () => {
      redis.disconnect();
      writer.disconnect();
    },
  };
}
