import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { integer, parseEnv } from '../common/env.js';
import { redisUrlSetting } from '../common/redisTarget.js';
import { isPostgresUrl, parsePostgresUrl } from './eventStore/postgresSchema.js';
import { parseDuration } from './retention/policy.js';
import { parseTrustedProxies } from './server/clientAddress.js';
import { parseOrigins } from './server/origins.js';

export { ConfigError } from '../common/env.js';

/** A duration setting (`5m`, `30s`, … or seconds), as milliseconds. */
const duration = (fallback: string) =>
  z
    .string()
    .trim()
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === null || ms <= 0) ctx.addIssue({ code: 'custom', message: 'a duration such as 5m, 30s or 3600' });
      return ms ?? 0;
    })
    .prefault(fallback);

/**
 * A rate limit setting, `<count>/<duration>` (`30/1m`: a burst of 30, then one every 2 s), or `0`
 * for none. The limits themselves are in src/limits/writeLimits.ts.
 */
const rate = (fallback: string) =>
  z
    .string()
    .trim()
    .transform((value, ctx) => {
      if (value === '0') return { limit: 0, windowMs: 1_000 };
      const match = /^(\d+)\s*\/\s*(.+)$/.exec(value);
      const windowMs = match ? parseDuration(match[2]!) : null;
      if (!match || windowMs === null || windowMs <= 0) {
        ctx.addIssue({ code: 'custom', message: 'a count per duration such as 30/1m (a burst of 30, then one every 2 s), or 0 for none' });
        return { limit: 0, windowMs: 1_000 };
      }
      return { limit: Number(match[1]), windowMs };
    })
    .prefault(fallback);

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
    .refine((v) => v === 'sqlite' || v === 'memory' || v.startsWith('esdb://') || v.startsWith('esdb+discover://') || isPostgresUrl(v), {
      message: 'must be sqlite, memory, a postgres:// URL or an esdb:// connection string',
    })
    .superRefine((v, ctx) => {
      if (!isPostgresUrl(v)) return;
      try {
        parsePostgresUrl(v);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^EVENT_STORE: /, '') });
      }
    })
    .default('sqlite'),
  /** One Redis (redis://, rediss://) or a Sentinel set (redis+sentinel://h1:26379,h2:26379/mymaster). */
  REDIS_URL: redisUrlSetting.optional(),
  /** The URL balancers should use for this node (default: http://HOST:PORT as bound). */
  ANNOUNCE_URL: z.string().trim().url('must be an http:// URL').optional(),
  /** Prepended to every Redis key and channel, so several clusters can share one Redis. */
  REDIS_PREFIX: z.string().regex(/^[\w:.-]{0,64}$/, 'letters, digits and : . - _ only').default('roomlog:'),
  /**
   * With REDIS_URL: how long a starting node waits for Redis before it exits 1; 0 = for ever (it
   * answers /healthz meanwhile and says every 10 s that it is still waiting). README, "Starting".
   */
  REDIS_WAIT_MS: integer(0).default(0),
  /** At least 32 bytes (HS256's key size): a shorter one stops the node at start (src/auth/jwtSecret.ts). */
  JWT_SECRET: z
    .string()
    .refine((value) => Buffer.byteLength(value) >= 32, { message: 'must be at least 32 bytes, e.g. $(openssl rand -hex 32)' })
    .optional(),
  NODE_ID: z
    .string()
    .trim()
    .regex(/^[\w.-]{1,64}$/, 'letters, digits, dot, dash or underscore, at most 64')
    .optional(),
  RATE_LIMIT_MESSAGES: integer(0).default(20),
  RATE_LIMIT_WINDOW_MS: integer(1).default(10_000),
  // The other writes per user, and per client address (README, "Limits and abuse"). Each is off
  // when RATE_LIMIT_MESSAGES=0, which turns every limit off (benchmarks and load tests).
  RATE_LIMIT_EDITS: rate('30/1m'),
  RATE_LIMIT_DELETES: rate('30/1m'),
  /** Joins and leaves together (those that change membership). */
  RATE_LIMIT_JOINS: rate('20/10m'),
  /** Name changes per user (each writes one event into every room of the user). */
  RATE_LIMIT_RENAMES: rate('5/1h'),
  /** Rooms created, per user. */
  RATE_LIMIT_ROOMS: rate('10/1h'),
  RATE_LIMIT_TYPING: rate('30/30s'),
  RATE_LIMIT_SESSIONS_PER_ADDRESS: rate('300/5m'),
  RATE_LIMIT_ROOMS_PER_ADDRESS: rate('100/100s'),
  /** Wrong passwords free of delay, per (user, room), per room and per address; then the delays double. */
  PASSWORD_FAILURES_PER_USER: integer(0).default(5),
  PASSWORD_FAILURES_PER_ROOM: integer(0).default(50),
  PASSWORD_FAILURES_PER_ADDRESS: integer(0).default(50),
  /** The longest delay after wrong passwords (they start at 1 s and double). */
  PASSWORD_BACKOFF_MAX: duration('5m'),
  /**
   * Password checks (scrypt, tens of ms of CPU each) running at once: half the cores by default,
   * so a flood of checks leaves the other half to the event loop. Past the queue: RATE_LIMITED.
   */
  PASSWORD_CHECKS_AT_ONCE: integer(1, 64).default(Math.max(1, Math.floor(availableParallelism() / 2))),
  PASSWORD_CHECKS_QUEUED: integer(0).default(32),
  /** A guess refused for its delay is answered after min(delay, this): guessers wait instead of spinning. */
  PASSWORD_REFUSAL_HOLD_MS: integer(0, 60_000).default(3_000),
  /** Whose X-Forwarded-For to believe: none, loopback, private, or addresses and CIDR ranges. */
  TRUST_PROXY: z
    .string()
    .trim()
    .refine(
      (value) => {
        try {
          parseTrustedProxies(value);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'none, or a comma-separated list of loopback, private, IP addresses and CIDR ranges' },
    )
    .default('loopback'),
  SESSION_TTL_SECONDS: integer(60).default(30 * 24 * 3600),
  MAX_BODY_CHARS: integer(1, 1_000_000).default(4_000),
  MAX_NAME_CHARS: integer(1, 1_000).default(100),
  MAX_REQUEST_BYTES: integer(1_024).default(64 * 1024),
  MAX_SUBSCRIPTIONS_PER_CONNECTION: integer(1).default(100),
  MAX_QUERY_DEPTH: integer(1).default(10),
  MAX_QUERY_COST: integer(1).default(5_000),
  /** A WebSocket whose unsent data passes this is closed as a slow consumer (4008, resume by seq). */
  MAX_SOCKET_BUFFER_BYTES: integer(16 * 1024).default(4 * 1024 * 1024),
  // Abuse limits on what is read (README, "Limits and abuse"; src/server/plugins/).
  /** A query or mutation whose answer would be larger is answered PAYLOAD_TOO_LARGE instead. */
  MAX_RESPONSE_BYTES: integer(1_024).default(4 * 1024 * 1024),
  /** Cost (MAX_QUERY_COST's unit) of the queries running at once on the node; more wait their turn. */
  MAX_QUERY_COST_AT_ONCE: integer(1).default(10_000),
  /** Cost of one user's queries running or waiting at once; past it, RATE_LIMITED. */
  MAX_QUERY_COST_AT_ONCE_PER_USER: integer(1).default(5_000),
  /** Queries and mutations at once on one WebSocket; past it the operation is refused, the socket stays. */
  MAX_OPERATIONS_PER_CONNECTION: integer(1).default(100),
  /** Subscriptions over SSE open at once, per user and per client address. */
  MAX_SSE_STREAMS_PER_USER: integer(1).default(10),
  MAX_SSE_STREAMS_PER_ADDRESS: integer(1).default(50),
  CONNECTION_INIT_TIMEOUT_MS: integer(100).default(3_000),
  KEEPALIVE_MS: integer(0).default(12_000),
  HEAD_CHECK_INTERVAL_MS: integer(50).default(1_000),
  /**
   * Read-your-writes: how long a read waits for the read models to reach the log position it must
   * reflect (README, "Consistency"); past it, it answers UNAVAILABLE rather than a stale view.
   */
  READ_MODEL_WAIT_MS: integer(1, 60_000).default(2_000),
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
  // Browser-facing hardening (README, "Limits and abuse"; src/server/origins.ts, metricsEndpoint.ts).
  /** Other sites whose pages may call the API from a browser (CORS, WebSocket Origin): origins, or `*`. Unset: the node's own pages only. */
  CORS_ORIGINS: z
    .string()
    .trim()
    .superRefine((value, ctx) => {
      try {
        parseOrigins(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `${(error as Error).message}; a comma-separated list of origins, or *` });
      }
    })
    .optional(),
  /** GraphiQL at GET /graphql from a browser; `false` turns it off. */
  GRAPHIQL: z.enum(['true', 'false'], { message: 'true or false' }).transform((value) => value === 'true').default(true),
  /** Serve /metrics on this port instead of the API's (0: any free port). Unset: on the API's port. */
  METRICS_PORT: integer(0, 65_535).optional(),
  /** The address the METRICS_PORT listener binds (default: HOST). */
  METRICS_HOST: z.string().trim().min(1).optional(),
  /** /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
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
