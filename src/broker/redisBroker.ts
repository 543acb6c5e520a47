import { once } from 'node:events';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { Redis } from 'ioredis';
import { openRedis } from '../../common/redisTarget.js';
import type { Broker } from './broker.js';

export interface RedisBrokerOptions {
  url: string;
  /** Prepended to every channel, so several clusters (or tests) can share one Redis. */
  prefix?: string;
  onError?: (error: unknown) => void;
}

/**
 * Redis pub/sub between nodes (graphql-redis-subscriptions over ioredis): one channel per room,
 * subscribed only while this node has a local subscriber of it. AT MOST ONCE, like Redis pub/sub
 * itself: what is published while a node is disconnected never reaches it (the room hub repairs
 * that from the log by seq, and `onReconnect` tells it when to look).
 *
 * The publisher does not queue commands while Redis is away (`enableOfflineQueue: false`): a
 * publish then fails at once instead of piling up in memory, and the send that caused it still
 * succeeds, because the event is already durable in the log.
 */
/**
 * The subscriber keeps its offline queue: a SUBSCRIBE issued while Redis is away is sent when it
 * comes back, and ioredis re-subscribes every channel after a reconnect. No ready check: ioredis
 * writes a SUBSCRIBE at once even during the connection's handshake (Redis allows it while
 * loading), the connection is then in subscriber mode, and the ready check's INFO is refused —
 * the connection never became ready and the node failed to start.
 */
export const SUBSCRIBER_OPTIONS = { maxRetriesPerRequest: null, autoResubscribe: true, enableReadyCheck: false } as const;

export function createRedisBroker(options: RedisBrokerOptions): Broker {
  const prefix = options.prefix ?? '';
  const onError = options.onError ?? (() => {});
  const publisher = openRedis(options.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
  const subscriber = openRedis(options.url, SUBSCRIBER_OPTIONS);
  publisher.on('error', onError);
  subscriber.on('error', onError);
  reportDroppedUnsubscribes(subscriber, onError);
  const pubsub = new RedisPubSub({ publisher, subscriber });

  const reconnectListeners: Array<() => void> = [];
  let everReady = false;
  subscriber.on('ready', () => {
    if (everReady) for (const listener of reconnectListeners) listener();
    everReady = true;
  });

  return {
    async publish(channel, message) {
      await pubsub.publish(prefix + channel, message);
    },
    async subscribe(channel, onMessage) {
      const id = await pubsub.subscribe(prefix + channel, onMessage);
      let done = false;
      return async () => {
        if (done) return;
        done = true;
        try {
          pubsub.unsubscribe(id);
        } catch (error) {
          // graphql-redis-subscriptions #225: an unsubscribe racing a resubscribe can throw
          // "There is no subscription of id"; the subscription is gone either way.
          onError(error);
        }
      };
    },
    async followed(channel) {
      await connected(publisher);
      // Counts subscriber connections, one per node that has a local subscriber of the channel.
      const [, count] = (await publisher.pubsub('NUMSUB', prefix + channel)) as [string, number];
      return Number(count) > 0;
    },
    onReconnect(listener) {
      reconnectListeners.push(listener);
    },
    async ping() {
      try {
        await connected(publisher);
        return (await publisher.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}

/**
 * graphql-redis-subscriptions sends UNSUBSCRIBE and PUNSUBSCRIBE and drops their promises
 * (redis-pubsub.js, `unsubscribe`): with Redis gone they reject ("Connection is closed") and the
 * rejection is unhandled, e.g. for every subscription a node closes while it stops. The
 * subscription ends with the connection either way: report it as the connection's other errors.
 */
export function reportDroppedUnsubscribes(subscriber: Redis, onError: (error: unknown) => void): void {
  for (const method of ['unsubscribe', 'punsubscribe'] as const) {
    const send = subscriber[method].bind(subscriber) as (...args: unknown[]) => Promise<unknown>;
    (subscriber as unknown as Record<typeof method, (...args: unknown[]) => Promise<unknown>>)[method] = (...args) => {
      const sent = send(...args);
      sent.catch(onError);
      return sent;
    };
  }
}

/**
 * Right after start (or a reconnect) the publisher may still be connecting, and without an offline
 * queue a command sent then fails at once: give it a moment (rejects after 1 s).
 */
async function connected(publisher: Redis): Promise<void> {
  if (publisher.status !== 'ready') await once(publisher, 'ready', { signal: AbortSignal.timeout(1_000) });
}
