import type { Redis } from 'ioredis';

/**
 * Tells balancers where this node is: `<prefix>nodes:<NODE_ID>` = its URL, with a TTL refreshed
 * every second. A node that dies drops out when the TTL lapses; a draining node withdraws at once.
 */
export function announceNode(options: { redis: Redis; prefix: string; nodeId: string; url: string; onError: (e: unknown) => void }) {
  const key = `${options.prefix}nodes:${options.nodeId}`;
  const refresh = () => options.redis.set(key, options.url, 'PX', 3_000).catch(options.onError);
  void refresh();
  const timer = setInterval(refresh, 1_000);
  timer.unref();
  return {
    async withdraw() {
      clearInterval(timer);
      await options.redis.del(key).catch(options.onError);
    },
  };
}
