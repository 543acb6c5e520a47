import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { integer, parseEnv } from '../common/env.js';
import { parseDuration } from './retention/policy.js';

export { ConfigError } from '../common/env.js';

/**
 * Every environment variable the node reads, in one place, validated with clear errors.
 * The README lists the public ones (docs/api.md says which are a contract); the rest are tuning knobs with safe defaults.
 */
const schema = z.object({
  PORT: integer(0, 65_535).default(4000),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  EVENT_STORE: z
    .string()
    .trim()
    .refine((v) => v === 'sqlite' || v === 'memory' || v.startsWith('esdb://') || v.startsWith('esdb+discover://'), {
      message: 'must be sqlite, memory, or an esdb:// connection string',
    })
    .default('sqlite'),
  REDIS_URL: z.string().trim().url('must be a redis:// URL').optional(),
  /** The URL balancers should use for this node (default: http://HOST:PORT as bound). */
  ANNOUNCE_URL: z.string().trim().url('must be an http:// URL').optional(),
  /** Prepended to every Redis key and channel, so several clusters can share one Redis. */
  REDIS_PREFIX: z.string().regex(/^[\w:.-]{0,64}$/, 'letters, digits and : . - _ only').default('roomlog:'),
  JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  NODE_ID: z
    .string()
    .trim()
    .regex(/^[\w.-]{1,64}$/, 'letters, digits, dot, dash or underscore, at most 64')
    .optional(),
  RATE_LIMIT_MESSAGES: integer(0).default(20),
  RATE_LIMIT_WINDOW_MS: integer(1).default(10_000),
  SESSION_TTL_SECONDS: integer(60).default(30 * 24 * 3600),
  MAX_BODY_CHARS: integer(1, 1_000_000).default(4_000),
  MAX_NAME_CHARS: integer(1, 1_000).default(100),
  MAX_REQUEST_BYTES: integer(1_024).default(64 * 1024),
  MAX_SUBSCRIPTIONS_PER_CONNECTION: integer(1).default(100),
  MAX_QUERY_DEPTH: integer(1).default(10),
  MAX_QUERY_COST: integer(1).default(5_000),
  /** A WebSocket whose unsent data passes this is closed as a slow consumer (4008, resume by seq). */
  MAX_SOCKET_BUFFER_BYTES: integer(16 * 1024).default(4 * 1024 * 1024),
  CONNECTION_INIT_TIMEOUT_MS: integer(100).default(3_000),
  KEEPALIVE_MS: integer(0).default(12_000),
  HEAD_CHECK_INTERVAL_MS: integer(50).default(1_000),
  SHUTDOWN_GRACE_MS: integer(0).default(2_000),
  /** Retention: messages older than this go (`30d`, `12h`, `90m`, `45s` or seconds). Unset: kept. */
  RETENTION_MAX_AGE: z
    .string()
    .trim()
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === null || ms <= 0) ctx.addIssue({ code: 'custom', message: 'a duration such as 30d, 12h, 90m or 3600' });
      return ms ?? 0;
    })
    .optional(),
  /** Retention: only a room's newest this-many seqs keep their messages. Unset: all kept. */
  RETENTION_MAX_COUNT: integer(1).optional(),
  RETENTION_INTERVAL_MS: integer(100).default(60_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof schema> & { NODE_ID: string };

/** Every environment variable a node reads (the deployment files are checked against it). */
export const CONFIG_KEYS: readonly string[] = Object.keys(schema.shape);

/** Reads and validates the environment; empty variables count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const config = parseEnv(schema, env);
  return { ...config, NODE_ID: config.NODE_ID ?? `node-${randomBytes(3).toString('hex')}` };
}
