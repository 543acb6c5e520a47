import { Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';

/**
 * What REDIS_URL names: one Redis (`redis://…`, `rediss://…`, handed to ioredis as is) or a
 * Sentinel set that names the master (`redis+sentinel://…`). One setting for both, so "every node
 * started with the same REDIS_URL joins the same cluster" stays true with failover, and the node,
 * the CLI and the balancer read it the same way.
 *
 *   redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/masterName[/db][?sentinelPassword=…]
 *
 * The password in front is the one of the master and its replicas; `sentinelPassword`, if the
 * sentinels ask for one. A host without a port means 26379 (Sentinel's default). A WHATWG URL
 * cannot hold several hosts, so this has its own small parser.
 */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | {
      kind: 'sentinel';
      sentinels: Array<{ host: string; port: number }>;
      /** The master's name in the sentinels' configuration (`sentinel monitor <name> …`). */
      name: string;
      db: number;
      username?: string;
      password?: string;
      sentinelPassword?: string;
    };

export const SENTINEL_SCHEME = 'redis+sentinel:';
const DEFAULT_SENTINEL_PORT = 26_379;

export class RedisUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

/** Parses REDIS_URL; a bad one throws RedisUrlError saying what is wrong. */
export function parseRedisTarget(url: string): RedisTarget {
  const text = url.trim();
  if (text.toLowerCase().startsWith(`${SENTINEL_SCHEME}//`)) return parseSentinelUrl(text.slice(SENTINEL_SCHEME.length + 2));
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new RedisUrlError('must be a redis://, rediss:// or redis+sentinel:// URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RedisUrlError(`must be a redis://, rediss:// or redis+sentinel:// URL, not ${parsed.protocol}//`);
  }
  if (!parsed.hostname) throw new RedisUrlError('names no host');
  return { kind: 'single', url: text };
}

function parseSentinelUrl(rest: string): RedisTarget {
  const queryAt = rest.indexOf('?');
  const query = new URLSearchParams(queryAt >= 0 ? rest.slice(queryAt + 1) : '');
  const beforeQuery = queryAt >= 0 ? rest.slice(0, queryAt) : rest;
  const slash = beforeQuery.indexOf('/');
  const authority = slash >= 0 ? beforeQuery.slice(0, slash) : beforeQuery;
  const path = slash >= 0 ? beforeQuery.slice(slash + 1) : '';
  // The last @ ends the credentials (a password may contain @ only percent-encoded, as in any URL).
  const at = authority.lastIndexOf('@');
  const credentials = at >= 0 ? authority.slice(0, at) : '';
  const hostList = at >= 0 ? authority.slice(at + 1) : authority;

  if (hostList.trim() === '') throw new RedisUrlError('redis+sentinel:// names no sentinel (host:port,host:port,…)');
  const sentinels = hostList.split(',').map((entry) => parseHostPort(entry.trim()));

  const [rawName = '', rawDb, ...extra] = path === '' ? [] : path.replace(/\/$/, '').split('/');
  const name = decode(rawName);
  if (!name) throw new RedisUrlError('redis+sentinel:// needs the master name after the hosts: redis+sentinel://host:26379,…/mymaster');
  if (extra.length > 0) throw new RedisUrlError('redis+sentinel:// path is /masterName or /masterName/db');
  let db = 0;
  if (rawDb !== undefined) {
    if (!/^\d{1,2}$/.test(rawDb)) throw new RedisUrlError(`database "${rawDb}" must be a number 0–99`);
    db = Number(rawDb);
  }

  const target: RedisTarget = { kind: 'sentinel', sentinels, name, db };
  if (credentials) {
    const colon = credentials.indexOf(':');
    const username = decode(colon >= 0 ? credentials.slice(0, colon) : credentials);
    const password = colon >= 0 ? decode(credentials.slice(colon + 1)) : '';
    if (colon < 0) {
      // `redis+sentinel://secret@…` is ambiguous; redis:// URLs read it as a user without password,
      // which Redis rejects unless ACLs say otherwise. Same reading here.
      if (username) target.username = username;
    } else {
      if (username) target.username = username;
      if (password) target.password = password;
    }
  }
  const sentinelPassword = query.get('sentinelPassword');
  if (sentinelPassword) target.sentinelPassword = sentinelPassword;
  const unknown = [...query.keys()].filter((key) => key !== 'sentinelPassword');
  if (unknown.length > 0) throw new RedisUrlError(`unknown option ${unknown.map((k) => `"${k}"`).join(', ')} (known: sentinelPassword)`);
  return target;
}

function parseHostPort(entry: string): { host: string; port: number } {
  // [::1]:26379, [::1], host:26379, host
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  const plain = /^([^:[\]/\s]+)(?::(\d+))?$/.exec(entry);
  const match = bracketed ?? plain;
  if (!match) throw new RedisUrlError(`sentinel "${entry}" is not host or host:port`);
  const port = match[2] === undefined ? DEFAULT_SENTINEL_PORT : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new RedisUrlError(`sentinel "${entry}": port must be 1–65535`);
  return { host: match[1]!, port };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RedisUrlError(`"${part}" is not valid percent-encoding`);
  }
}

/** For configuration schemas (node and balancer): a REDIS_URL this module can open. */
export const redisUrlSetting = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    try {
      parseRedisTarget(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof RedisUrlError ? error.message : String(error) });
    }
  });

/** REDIS_URL without its passwords, for messages and logs. */
export function redactRedisUrl(url: string): string {
  let target: RedisTarget;
  try {
    target = parseRedisTarget(url);
  } catch {
    return 'an invalid URL';
  }
  if (target.kind === 'single') {
    const parsed = new URL(target.url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  }
  const user = target.username ? encodeURIComponent(target.username) : '';
  const credentials = target.password ? `${user}:***@` : user ? `${user}@` : '';
  const hosts = target.sentinels.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(',');
  const db = target.db ? `/${target.db}` : '';
  const query = target.sentinelPassword ? '?sentinelPassword=***' : '';
  return `${SENTINEL_SCHEME}//${credentials}${hosts}/${encodeURIComponent(target.name)}${db}${query}`;
}

/** A READONLY reply: this connection still talks to a master that was demoted to a replica. */
export const isReadOnlyError = (error: Error): boolean => error.message.startsWith('READONLY');

/**
 * ioredis options for a target, over the caller's own (timeouts, queueing). With a Sentinel set:
 *  - `failoverDetector`: each connection also subscribes to the sentinels' `+switch-master` and
 *    reconnects on it. Redis closes clients when it is demoted, but a master that hangs (paused,
 *    partitioned) closes nothing and the connection would stay on it (ioredis #1314).
 *  - `reconnectOnError` on READONLY: an old master that comes back as a replica keeps the
 *    connections it had and refuses their writes; reconnecting asks the sentinels again. 1 =
 *    reconnect without resending: the command may be part of a WATCH/MULTI whose state is on the
 *    old connection, so its caller gets the error and retries as it does for any Redis error.
 *  - The role check: with `enableReadyCheck` (ioredis's default) a connection that reaches a
 *    replica (stale sentinel answer) is dropped and the next sentinel asked. The broker's
 *    subscriber turns the ready check off (redisBroker.ts says why); it needs no master anyway,
 *    since a PUBLISH on the master reaches subscribers of its replicas too.
 */
export function redisOptionsFor(target: Exclude<RedisTarget, { kind: 'single' }>, options: RedisOptions = {}): RedisOptions {
  return {
    sentinels: target.sentinels,
    name: target.name,
    db: target.db,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
    role: 'master',
    failoverDetector: true,
    reconnectOnError: (error) => (isReadOnlyError(error) ? 1 : false),
    ...options,
  };
}

/** Opens a connection to what REDIS_URL names (one Redis or the master of a Sentinel set). */
export function openRedis(url: string, options: RedisOptions = {}): Redis {
  const target = parseRedisTarget(url);
  if (target.kind === 'single') {
    // READONLY also happens without Sentinel (a managed Redis whose DNS name moved to a new
    // primary); reconnecting resolves the name again.
    return new Redis(target.url, { reconnectOnError: (error) => (isReadOnlyError(error) ? 1 : false), ...options });
  }
  return new Redis(redisOptionsFor(target, options));
}
