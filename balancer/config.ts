import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { ConfigError, integer, parseEnv } from '../common/env.js';
import { redisUrlSetting } from '../common/redisTarget.js';

const backendList = z
  .string()
  .trim()
  .transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean))
  .pipe(z.array(z.string().url('each backend must be an http:// URL').refine((u) => u.startsWith('http://'), 'must be http://')));

const schema = z.object({
  PORT: integer(0, 65_535).default(8080),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  /** Static backends, e.g. http://127.0.0.1:4001,http://127.0.0.1:4002. */
  BACKENDS: backendList.default([]),
  /** Discovery: nodes started with the same REDIS_URL (one Redis or a redis+sentinel:// set) announce themselves there. */
  REDIS_URL: redisUrlSetting.optional(),
  REDIS_PREFIX: z.string().regex(/^[\w:.-]{0,64}$/).default('roomlog:'),
  HEALTH_INTERVAL_MS: integer(50).default(1_000),
  HEALTH_TIMEOUT_MS: integer(50).default(800),
  MAX_CONNECTIONS: integer(1).default(50_000),
  MAX_CONNECTIONS_PER_IP: integer(1).default(1_000),
  NEW_CONNECTIONS_PER_SECOND_PER_IP: integer(1).default(100),
  NEW_CONNECTIONS_BURST_PER_IP: integer(1).default(200),
  /** Slowloris: a client must finish its request headers within this. */
  HEADERS_TIMEOUT_MS: integer(100).default(10_000),
  /** A plain HTTP connection idle this long is closed (upgraded sockets are left to the node's pings). */
  IDLE_TIMEOUT_MS: integer(100).default(60_000),
  /** A backend must answer the upgrade within this, or the client gets 502. */
  UPSTREAM_TIMEOUT_MS: integer(100).default(5_000),
  /**
   * Request bodies up to this size are read whole before they are sent, so that a request a node
   * never got (connection refused, or refused with 503 while draining) can be sent to another node
   * (httpProxy.ts). Larger ones are streamed: retried only if none of the body was sent yet.
   * The nodes' default MAX_REQUEST_BYTES.
   */
  RETRY_BODY_BYTES: integer(0, 16 * 1024 * 1024).default(64 * 1024),
  /**
   * Processes that proxy, the primary included (workers.ts), default one per CPU: after the
   * upgrade every frame costs the proxy two system calls, and a message fanned out to many sockets
   * is a burst of them, so a second core shortens the tail. 1 = a single process.
   */
  WORKERS: integer(1, 64).default(Math.max(1, availableParallelism())),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type BalancerConfig = z.infer<typeof schema>;

/** Every environment variable the balancer reads. */
export const BALANCER_CONFIG_KEYS: readonly string[] = Object.keys(schema.shape);

export function loadBalancerConfig(env: NodeJS.ProcessEnv = process.env): BalancerConfig {
  const config = parseEnv(schema, env);
  if (config.BACKENDS.length === 0 && !config.REDIS_URL) {
    throw new ConfigError(['BACKENDS or REDIS_URL: give a comma-separated list of node URLs, or a Redis to discover them in, or both']);
  }
  return config;
}
