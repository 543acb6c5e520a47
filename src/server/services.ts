import { loadJwtSecret } from '../auth/jwtSecret.js';
import { createSessions, type Sessions } from '../auth/sessions.js';
import type { Broker } from '../broker/broker.js';
import { presenceChannel } from '../broker/broker.js';
import { createMemoryBroker } from '../broker/memoryBroker.js';
import { createRoomAccess } from '../chat/roomAccess.js';
import { createRoomTrimmer, createUseCases, type ChatUseCases } from '../chat/useCases.js';
import type { Config } from '../config.js';
import { createRoomCommandHandler } from '../commandHandling/roomCommandHandler.js';
import { snapshotCarrier } from '../retention/snapshotCarrier.js';
import type { EventStore } from '../eventStore/eventStore.js';
import { openEventStore } from '../eventStore/openEventStore.js';
import { RoomHub } from '../fanout/roomHub.js';
import { Subscriptions } from '../fanout/subscriptions.js';
import { createAbuseLimits } from '../limits/abuseLimits.js';
import { createLogger, type Logger } from '../../common/logger.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { createMemoryPresenceStore } from '../presence/memoryPresenceStore.js';
import { createMemoryReadModelStore } from '../readModels/memoryReadModelStore.js';
import { createProjectionRunner } from '../projector/runner.js';
import { createLeasedProjectionRunner } from '../projector/leasedRunner.js';
import { createRedisLease } from '../projector/lease.js';
import { Redis } from 'ioredis';
import { createRedisBroker } from '../broker/redisBroker.js';
import { createRedisPresenceStore } from '../presence/redisPresenceStore.js';
import { createRedisReadModelStore } from '../readModels/redisReadModelStore.js';
import { announceNode } from './announce.js';
import { prepareDataDir, protectDataFiles } from './dataDir.js';
import { redisErrorLog, waitForRedis } from '../redisConnection.js';
import { startRetention } from '../retention/job.js';
import { dropsStreamPrefixes } from '../retention/strategy.js';

export interface Services {
  log: Logger;
  metrics: Metrics;
  sessions: Sessions;
  store: EventStore;
  broker: Broker;
  chat: ChatUseCases;
  subscriptions: Subscriptions;
  hub: RoomHub;
  /**
   * With Redis: waits for it first (saying so, see waitForRedis; `healthUrl` is where /healthz
   * answers meanwhile). Then replays the log into the read models, and follows it live.
   */
  start(healthUrl: string): Promise<void>;
  /** With Redis: tells balancers this node serves at `url` (until `withdraw`). */
  announce(url: string): void;
  /** Stops announcing this node (it is draining). */
  withdraw(): Promise<void>;
  /** Whether this node can serve (its event store answers), and how Redis is (when used). */
  ready(): Promise<Readiness>;
  close(): Promise<void>;
}

/**
 * `store`: the event store answers — without it nothing can be served. `redis`: sends and delivery
 * go on without it (README, "Running several nodes"), so an outage is `degraded`, not unready.
 */
export interface Readiness {
  store: boolean;
  redis?: 'ok' | 'degraded';
}

/** Picks and wires the adapters the configuration asks for. */
export async function createServices(config: Config): Promise<Services> {
  const log = createLogger({ level: config.LOG_LEVEL, nodeId: config.NODE_ID });
  const metrics = createMetrics(config.NODE_ID);
  // DATA_DIR 0700 and its files 0600: the log and the signing key are for this user only.
  prepareDataDir(config.DATA_DIR, log);
  const secret = loadJwtSecret({ secret: config.JWT_SECRET, dataDir: config.DATA_DIR });
  const sessions = createSessions({ secret, ttlSeconds: config.SESSION_TTL_SECONDS });
  const store = openEventStore({ eventStore: config.EVENT_STORE, dataDir: config.DATA_DIR, onError: (error) => log.warn({ err: error }, 'event store error') });
  protectDataFiles(config.DATA_DIR, log);
  const shared = config.REDIS_URL ? createRedisParts(config, config.REDIS_URL, log) : null;
  const broker = shared?.broker ?? createMemoryBroker();
  const readModels = shared?.readModels ?? createMemoryReadModelStore();
  const presence = shared?.presence ?? createMemoryPresenceStore();
  const abuse = createAbuseLimits(config, shared?.limits ?? null);
  const projections = shared
    ? createLeasedProjectionRunner({
        store,
        readModels,
        lease: shared.lease,
        broker,
        onError: (error) => log.warn({ err: error }, 'projector error'),
        onLeadership: (leading) => log.info({ leading }, leading ? 'this node now runs the projections' : 'this node stopped running the projections'),
      })
    : createProjectionRunner({
        store,
        readModels,
        // Writes made before a restart, inside the current window, still count against the limits.
        // Live writes were counted when they were made (the use cases), so only replayed ones here.
        onApplied: (events, replayed) => {
          if (replayed) abuse.replay(events);
        },
      });
  // A store that drops whole stream prefixes by count ($maxCount) needs a room snapshot kept inside
  // the window; a store that deletes message events only (SQLite) keeps the room's structure itself.
  const dropsPrefixes = dropsStreamPrefixes(store);
  const keepLast = dropsPrefixes ? config.RETENTION_MAX_COUNT : undefined;
  const repository = createRoomCommandHandler(store, { afterBatch: keepLast === undefined ? undefined : snapshotCarrier(keepLast) });
  const chatPorts = {
    commands: repository,
    readModels,
    progress: projections,
    consistency: { readWaitMs: config.READ_MODEL_WAIT_MS },
    store,
    broker,
    presence,
    limiter: abuse.limiter,
    passwords: abuse.passwords,
    guesses: abuse.guesses,
    sessions,
    metrics,
    log,
    limits: { maxBodyChars: config.MAX_BODY_CHARS, maxNameChars: config.MAX_NAME_CHARS },
  };
  const access = createRoomAccess(chatPorts);
  const chat = createUseCases(chatPorts, access);
  const hub = new RoomHub({
    store,
    broker,
    headCheckIntervalMs: config.HEAD_CHECK_INTERVAL_MS,
    onError: (error, roomId) => log.warn({ err: error, roomId }, 'room feed error'),
    onRepaired: (roomId, count) => {
      metrics.repairedEvents.inc(count);
      log.debug({ roomId, count }, 'repaired events from the log');
    },
  });
  const subscriptions = new Subscriptions({ hub, broker, presence, access, metrics });
  const retention = startRetention({
    store,
    trimmer: createRoomTrimmer(chatPorts),
    roomIds: () => readModels.roomIds(),
    log,
    policy: { maxAgeMs: config.RETENTION_MAX_AGE, maxCount: config.RETENTION_MAX_COUNT, intervalMs: config.RETENTION_INTERVAL_MS },
  });
  presence.onChange((roomId) => {
    presence
      .snapshot(roomId)
      .then((view) => broker.publish(presenceChannel(roomId), view))
      .catch((error) => log.warn({ err: error, roomId }, 'presence publish failed'));
  });
  let announcement: { withdraw(): Promise<void> } | null = null;
  const stopping = new AbortController();
  const followed = setInterval(() => {
    metrics.followedRooms.set(hub.roomCount);
    metrics.projectionPosition.set(projections.position());
  }, 5_000);
  followed.unref();

  return {
    log,
    metrics,
    sessions,
    store,
    broker,
    chat,
    subscriptions,
    hub,
    async start(healthUrl) {
      if (shared) {
        const { ping, url, errors } = shared;
        await waitForRedis({ ping, url, log, waitMs: config.REDIS_WAIT_MS, healthUrl, why: errors.last, signal: stopping.signal });
        errors.started();
      }
      const report = await projections.start();
      metrics.projectionPosition.set(projections.position());
      const perSecond = report.ms > 0 ? Math.round((report.events / report.ms) * 1000) : 0;
      log.info({ events: report.events, ms: Math.round(report.ms), eventsPerSecond: perSecond, position: report.position }, 'replayed the log into the read models');
    },
    announce(url) {
      if (shared) announcement = shared.announce(config.ANNOUNCE_URL ?? url);
    },
    async withdraw() {
      await announcement?.withdraw();
      announcement = null;
    },
    async ready() {
      // Bounded: a balancer's health check gives up after HEALTH_TIMEOUT_MS (800 ms by default).
      const redisAnswers = shared ? Promise.race([broker.ping(), new Promise<false>((resolve) => setTimeout(resolve, 500, false))]) : null;
      const [storeOk, redisOk] = await Promise.all([store.ping().catch(() => false), redisAnswers?.catch(() => false)]);
      return { store: storeOk, ...(shared ? { redis: redisOk ? 'ok' : 'degraded' } : {}) };
    },
    async close() {
      stopping.abort();
      clearInterval(followed);
      await retention.stop();
      await hub.close();
      await projections.close();
      await presence.close();
      await abuse.close();
      await broker.close();
      await readModels.close();
      await store.close();
      shared?.close();
    },
  };
}

/** Everything that must be shared between nodes, kept in Redis. */
function createRedisParts(config: Config, url: string, log: Logger) {
  const prefix = config.REDIS_PREFIX;
  // Quiet while the node waits for Redis at start; then each distinct error once per 10 s.
  const errors = redisErrorLog(log);
  const onError = errors.onError;
  // Queries and the projector's fenced writes each get a connection (WATCH is per connection);
  // the broker opens its own two (a subscriber connection can do nothing else).
  // commandTimeout: a Redis that stops answering (paused, partitioned) must fail these calls,
  // not hang them; the send path treats Redis as optional (the log is the source of truth).
  const redis = new Redis(url, { maxRetriesPerRequest: 2, commandTimeout: 2_000 });
  const writer = new Redis(url, { maxRetriesPerRequest: 2, commandTimeout: 5_000 });
  redis.on('error', onError);
  writer.on('error', onError);
  const lease = createRedisLease({ redis: writer, key: `${prefix}projector:lease`, holder: config.NODE_ID, ttlMs: 5_000 });
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
