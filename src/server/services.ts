import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createSessions, type Sessions } from '../auth/sessions.js';
import type { Broker } from '../broker/broker.js';
import { presenceChannel } from '../broker/broker.js';
import { createMemoryBroker } from '../broker/memoryBroker.js';
import { ChatService } from '../chat/chatService.js';
import type { Config } from '../config.js';
import { RoomRepository } from '../domain/roomRepository.js';
import type { EventStore } from '../eventStore/eventStore.js';
import { createMemoryEventStore } from '../eventStore/memoryEventStore.js';
import { createSqliteEventStore } from '../eventStore/sqliteEventStore.js';
import { RoomHub } from '../fanout/roomHub.js';
import { Subscriptions } from '../fanout/subscriptions.js';
import { createMemoryRateLimiter } from '../limits/memoryRateLimiter.js';
import { createLogger, type Logger } from '../logger.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { createMemoryPresenceStore } from '../presence/memoryPresenceStore.js';
import { createMemoryReadModelStore } from '../readModels/memoryReadModelStore.js';
import { createProjectionRunner } from '../../projections/runner.js';

export interface Services {
  log: Logger;
  metrics: Metrics;
  sessions: Sessions;
  store: EventStore;
  broker: Broker;
  chat: ChatService;
  subscriptions: Subscriptions;
  hub: RoomHub;
  /** Replays the log into the read models; then follows it live. */
  start(): Promise<void>;
  /** The event store and the broker both answer. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/** Picks and wires the adapters the configuration asks for. */
export async function createServices(config: Config): Promise<Services> {
  const log = createLogger({ level: config.LOG_LEVEL, nodeId: config.NODE_ID });
  const metrics = createMetrics(config.NODE_ID);
  mkdirSync(config.DATA_DIR, { recursive: true });
  const sessions = createSessions({ secret: jwtSecret(config), ttlSeconds: config.SESSION_TTL_SECONDS });
  const store = createEventStore(config);
  if (config.REDIS_URL) {
    throw new Error('REDIS_URL: the Redis adapters are not built yet; run without it for one node');
  }
  const broker = createMemoryBroker();
  const readModels = createMemoryReadModelStore();
  const presence = createMemoryPresenceStore();
  const limiter = createMemoryRateLimiter({ limit: config.RATE_LIMIT_MESSAGES, windowMs: config.RATE_LIMIT_WINDOW_MS });
  const projections = createProjectionRunner({
    store,
    readModels,
    // Sends inside the current window count against the limit after a restart too.
    onApplied: (events) => {
      for (const event of events) if (event.type === 'MessagePosted') limiter.record(event.data.author.id, event.at);
      metrics.projectionPosition.set(projections.position());
    },
  });
  const repository = new RoomRepository(store);
  const chat = new ChatService({
    store,
    repository,
    readModels,
    projections,
    broker,
    presence,
    limiter,
    sessions,
    metrics,
    log,
    limits: { maxBodyChars: config.MAX_BODY_CHARS, maxNameChars: config.MAX_NAME_CHARS, rateLimitWindowMs: config.RATE_LIMIT_WINDOW_MS },
  });
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
  const subscriptions = new Subscriptions({ hub, broker, presence, chat, metrics });
  presence.onChange((roomId) => {
    presence
      .snapshot(roomId)
      .then((view) => broker.publish(presenceChannel(roomId), view))
      .catch((error) => log.warn({ err: error, roomId }, 'presence publish failed'));
  });
  const followed = setInterval(() => metrics.followedRooms.set(hub.roomCount), 5_000);
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
    async start() {
      const report = await projections.start();
      const perSecond = report.ms > 0 ? Math.round((report.events / report.ms) * 1000) : 0;
      log.info({ events: report.events, ms: Math.round(report.ms), eventsPerSecond: perSecond, position: report.position }, 'replayed the log into the read models');
    },
    async ready() {
      const [storeOk, brokerOk] = await Promise.all([store.ping().catch(() => false), broker.ping().catch(() => false)]);
      return storeOk && brokerOk;
    },
    async close() {
      clearInterval(followed);
      await hub.close();
      await projections.close();
      await presence.close();
      await limiter.close();
      await broker.close();
      await readModels.close();
      await store.close();
    },
  };
}

function createEventStore(config: Config): EventStore {
  if (config.EVENT_STORE === 'memory') return createMemoryEventStore();
  if (config.EVENT_STORE === 'sqlite') return createSqliteEventStore({ file: join(config.DATA_DIR, 'events.sqlite') });
  throw new Error('EVENT_STORE=esdb://…: the EventStoreDB adapter is not built yet; use sqlite or memory');
}

/** JWT_SECRET, or a secret generated once into DATA_DIR (0600) so restarts keep sessions valid. */
function jwtSecret(config: Config): Uint8Array {
  if (config.JWT_SECRET) return new TextEncoder().encode(config.JWT_SECRET);
  const file = join(config.DATA_DIR, 'jwt-secret');
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  } catch {
    const secret = randomBytes(32);
    writeFileSync(file, secret.toString('base64url'), { mode: 0o600, flag: 'wx' });
    return secret;
  }
}
