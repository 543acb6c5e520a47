import { openRedis } from '../common/redisTarget.js';

/**
 * Nodes started with REDIS_URL announce themselves under `<prefix>nodes:<NODE_ID>` (value: their
 * URL) with a short TTL, refreshed every second (src/server/announce.ts). The balancer lists
 * those keys every `intervalMs` and hands the set to the pool: a node that stops announcing
 * (dead, or draining: it deletes its key) drops out by itself.
 */
export function discoverBackends(options: {
  url: string;
  prefix: string;
  intervalMs: number;
  onBackends: (urls: string[]) => void;
  onError: (error: unknown) => void;
}): { stop: () => void } {
  const redis = openRedis(options.url, { maxRetriesPerRequest: 1 });
  redis.on('error', options.onError);
  const look = async () => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${options.prefix}nodes:*`, 'COUNT', 500);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    const urls = keys.length > 0 ? (await redis.mget(keys)).filter((url): url is string => typeof url === 'string') : [];
    options.onBackends(urls);
  };
  const timer = setInterval(() => look().catch(options.onError), options.intervalMs);
  void look().catch(options.onError);
  return {
    stop: () => {
      clearInterval(timer);
      redis.disconnect();
    },
  };
}
