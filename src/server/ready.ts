import type { Broker } from '../broker/broker.js';
import type { EventStore } from '../eventStore/eventStore.js';

/**
 * `store`: the event store answers — without it nothing can be served. `redis`: sends and delivery
 * go on without it (README, "Running several nodes"), so an outage is `degraded`, not unready.
 */
export interface Readiness {
  store: boolean;
  redis?: 'ok' | 'degraded';
}

/** Whether this node can serve; `redisBroker`: the broker when it is Redis's (null: no Redis). */
export async function checkReadiness(store: EventStore, redisBroker: Broker | null): Promise<Readiness> {
  // Bounded: a balancer's health check gives up after HEALTH_TIMEOUT_MS (800 ms by default).
  const redisAnswers = redisBroker ? Promise.race([redisBroker.ping(), new Promise<false>((resolve) => setTimeout(resolve, 500, false))]) : null;
  const [storeOk, redisOk] = await Promise.all([store.ping().catch(() => false), redisAnswers?.catch(() => false)]);
  return { store: storeOk, ...(redisBroker ? { redis: redisOk ? 'ok' : 'degraded' } : {}) };
}
