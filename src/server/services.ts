import { loadJwtSecret } from '../auth/jwtSecret.js';
import { createSessions, type Sessions } from '../auth/sessions.js';
import type { Broker } from '../broker/broker.js';
import { createMemoryBroker } from '../broker/memoryBroker.js';
import type { ChatPorts } from '../chat/ports.js';
import { createRoomAccess, type RoomAccess } from '../chat/roomAccess.js';
import { createRoomTrimmer, createUseCases, type ChatUseCases } from '../chat/useCases.js';
import type { Config } from '../config.js';
import { createRoomCommandHandler } from '../commandHandling/roomCommandHandler.js';
import { snapshotCarrier } from '../retention/snapshotCarrier.js';
import type { EventStore } from '../eventStore/eventStore.js';
import { openEventStore } from '../eventStore/openEventStore.js';
import { RoomHub } from '../fanout/roomHub.js';
import { Subscriptions } from '../fanout/subscriptions.js';
import { createAbuseLimits, type AbuseLimits } from '../limits/abuseLimits.js';
import { createLogger, type Logger } from '../../common/logger.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { createMemoryPresenceStore } from '../presence/memoryPresenceStore.js';
import type { PresenceStore } from '../presence/presenceStore.js';
import type { ReadModelStore } from '../readModels/readModelStore.js';
import { createMemoryReadModelStore } from '../readModels/memoryReadModelStore.js';
import { createProjectionRunner, type ProjectionRunner } from '../projector/runner.js';
import { createLeasedProjectionRunner } from '../projector/leasedRunner.js';
import { prepareDataDir, protectDataFiles } from './dataDir.js';
import { publishPresenceChanges } from './presencePublisher.js';
import { checkReadiness, type Readiness } from './ready.js';
import { createRedisParts, type RedisParts } from './redisParts.js';
import { waitForRedis } from '../redisConnection.js';
import { startRetention } from '../retention/job.js';
import { dropsStreamPrefixes } from '../retention/strategy.js';

export type { Readiness };

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

/** The adapters the configuration asks for: shared through Redis (REDIS_URL), else in this process. */
interface Adapters {
  /** Null without Redis. */
  shared: RedisParts | null;
  broker: Broker;
  readModels: ReadModelStore;
  presence: PresenceStore;
  abuse: AbuseLimits;
}

/** What start, announce, ready and close work on, once everything is wired. */
interface Running extends Adapters {
  config: Config;
  log: Logger;
  metrics: Metrics;
  store: EventStore;
  projections: ProjectionRunner;
  hub: RoomHub;
  retention: ReturnType<typeof startRetention>;
  /** The timer sampling gauges (sampleGauges). */
  followed: ReturnType<typeof setInterval>;
  /** Publishes presence changes, gathered per room (presencePublisher.ts). */
  presencePublisher: { close(): void };
  /** Aborted by close: a start still waiting for Redis gives up. */
  stopping: AbortController;
  announcement: { withdraw(): Promise<void> } | null;
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
  const adapters = selectAdapters(config, log);
  const { broker, readModels, presence } = adapters;
  const projections = chooseProjector(config, log, store, adapters);
  const chatPorts = chatPortsOf(config, { store, projections, sessions, metrics, log, adapters });
  const access = createRoomAccess(chatPorts);
  const chat = createUseCases(chatPorts, access);
  const hub = createHub(config, store, broker, metrics, log);
  const subscriptions = new Subscriptions({ hub, broker, presence, access, metrics });
  const retention = startRetentionJob(config, store, chatPorts, readModels, log);
  const presencePublisher = publishPresenceChanges(presence, broker, log);
  const running: Running = {
    ...adapters,
    config,
    log,
    metrics,
    store,
    projections,
    hub,
    retention,
    announcement: null,
    stopping: new AbortController(),
    followed: sampleGauges(metrics, hub, projections),
    presencePublisher,
  };

  return {
    log,
    metrics,
    sessions,
    store,
    broker,
    chat,
    subscriptions,
    hub,
    start: (healthUrl) => start(running, healthUrl),
    announce(url) {
      if (running.shared) running.announcement = running.shared.announce(config.ANNOUNCE_URL ?? url);
    },
    async withdraw() {
      await running.announcement?.withdraw();
      running.announcement = null;
    },
    ready: () => checkReadiness(store, running.shared ? broker : null),
    close: () => close(running),
  };
}

function selectAdapters(config: Config, log: Logger): Adapters {
  const shared = config.REDIS_URL ? createRedisParts(config, config.REDIS_URL, log) : null;
  return {
    shared,
    broker: shared?.broker ?? createMemoryBroker(),
    readModels: shared?.readModels ?? createMemoryReadModelStore(),
    presence: shared?.presence ?? createMemoryPresenceStore(),
    abuse: createAbuseLimits(config, shared?.limits ?? null),
  };
}

/** With Redis, one node at a time runs the projections (the lease); else this node does. */
function chooseProjector(config: Config, log: Logger, store: EventStore, { shared, readModels, broker, abuse }: Adapters): ProjectionRunner {
  if (shared) {
    return createLeasedProjectionRunner({
      store,
      readModels,
      lease: shared.lease,
      broker,
      onError: (error) => log.warn({ err: error }, 'projector error'),
      onLeadership: (leading) => log.info({ leading }, leading ? 'this node now runs the projections' : 'this node stopped running the projections'),
    });
  }
  return createProjectionRunner({
    store,
    readModels,
    // Writes made before a restart, inside the current window, still count against the limits.
    // Live writes were counted when they were made (the use cases), so only replayed ones here.
    onApplied: (events, replayed) => {
      if (replayed) abuse.replay(events);
    },
  });
}

/** The ports every use case receives (src/chat/ports.ts), over the room command handler. */
function chatPortsOf(
  config: Config,
  parts: { store: EventStore; projections: ProjectionRunner; sessions: Sessions; metrics: Metrics; log: Logger; adapters: Adapters },
): ChatPorts {
  const { store, projections, sessions, metrics, log } = parts;
  const { readModels, broker, presence, abuse } = parts.adapters;
  // A store that drops whole stream prefixes by count ($maxCount) needs a room snapshot kept inside
  // the window; a store that deletes message events only (SQLite) keeps the room's structure itself.
  // The window is the one the room records (another node may have set it), so the carrier is on
  // even without RETENTION_MAX_COUNT here.
  const dropsPrefixes = dropsStreamPrefixes(store);
  const repository = createRoomCommandHandler(store, { afterBatch: dropsPrefixes ? snapshotCarrier(config.RETENTION_MAX_COUNT) : undefined });
  return {
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
    limits: { maxBodyChars: config.MAX_BODY_CHARS, maxNameChars: config.MAX_NAME_CHARS, refusedGuessHoldMs: config.PASSWORD_REFUSAL_HOLD_MS },
  };
}

function createHub(config: Config, store: EventStore, broker: Broker, metrics: Metrics, log: Logger): RoomHub {
  return new RoomHub({
    store,
    broker,
    headCheckIntervalMs: config.HEAD_CHECK_INTERVAL_MS,
    onError: (error, roomId) => log.warn({ err: error, roomId }, 'room feed error'),
    onRepaired: (roomId, count) => {
      metrics.repairedEvents.inc(count);
      log.debug({ roomId, count }, 'repaired events from the log');
    },
  });
}

function startRetentionJob(config: Config, store: EventStore, chatPorts: ChatPorts, readModels: ReadModelStore, log: Logger) {
  return startRetention({
    store,
    trimmer: createRoomTrimmer(chatPorts),
    roomIds: () => readModels.roomIds(),
    log,
    policy: { maxAgeMs: config.RETENTION_MAX_AGE, maxCount: config.RETENTION_MAX_COUNT, intervalMs: config.RETENTION_INTERVAL_MS },
  });
}

function sampleGauges(metrics: Metrics, hub: RoomHub, projections: ProjectionRunner): ReturnType<typeof setInterval> {
  const followed = setInterval(() => {
    metrics.followedRooms.set(hub.roomCount);
    metrics.projectionPosition.set(projections.position());
  }, 5_000);
  followed.unref();
  return followed;
}

async function start(running: Running, healthUrl: string): Promise<void> {
  const { shared, projections, metrics, log, config } = running;
  if (shared) {
    const { ping, url, errors } = shared;
    await waitForRedis({ ping, url, log, waitMs: config.REDIS_WAIT_MS, healthUrl, why: errors.last, signal: running.stopping.signal });
    errors.started();
  }
  const report = await projections.start();
  metrics.projectionPosition.set(projections.position());
  const perSecond = report.ms > 0 ? Math.round((report.events / report.ms) * 1000) : 0;
  log.info({ events: report.events, ms: Math.round(report.ms), eventsPerSecond: perSecond, position: report.position }, 'replayed the log into the read models');
}

async function close(running: Running): Promise<void> {
  running.stopping.abort();
  clearInterval(running.followed);
  running.presencePublisher.close();
  await running.retention.stop();
  await running.hub.close();
  await running.projections.close();
  await running.presence.close();
  await running.abuse.close();
  await running.broker.close();
  await running.readModels.close();
  await running.store.close();
  running.shared?.close();
}
