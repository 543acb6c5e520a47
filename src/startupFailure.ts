import { resolve, sep } from 'node:path';
import { UNREACHABLE_SERVER_CODES } from '../common/socketErrors.js';
import type { Config } from './config.js';

/** The settings a start-up failure can name. */
type StartSettings = Pick<Config, 'PORT' | 'HOST' | 'DATA_DIR' | 'EVENT_STORE' | 'METRICS_PORT' | 'METRICS_HOST'>;

/** What a failed system call or driver leaves on its error (Node's, better-sqlite3's, EventStoreDB's). */
interface FailureDetails {
  code?: string;
  syscall?: string;
  path?: string;
  port?: number;
  address?: string;
  message?: string;
  name?: string;
}

/**
 * The one line an operator needs when a node cannot start for a reason outside it (README,
 * "Starting"): which setting, what is wrong, what to do, like a bad configuration value. Null for
 * anything else, which is a bug and keeps its stack trace.
 */
export function describeStartupFailure(error: unknown, config: StartSettings): string | null {
  if (typeof error !== 'object' || error === null) return null;
  const failure = error as FailureDetails & { cause?: unknown };
  const line = listenFailure(failure, config) ?? dataDirFailure(failure, config) ?? eventStoreFailure(failure, config) ?? postgresFailure(failure, config);
  // An adapter may wrap what the driver said (the event store "does not answer"): look inside.
  return line ?? (failure.cause !== undefined && failure.cause !== error ? describeStartupFailure(failure.cause, config) : null);
}

function listenFailure(failure: FailureDetails, config: StartSettings): string | null {
  if (failure.syscall !== 'listen' && failure.syscall !== 'bind') return null;
  const metrics = config.METRICS_PORT !== undefined && failure.port === config.METRICS_PORT && failure.port !== config.PORT;
  const [portName, hostName] = metrics ? ['METRICS_PORT', 'METRICS_HOST'] : ['PORT', 'HOST'];
  const port = metrics ? config.METRICS_PORT : config.PORT;
  const host = metrics ? (config.METRICS_HOST ?? config.HOST) : config.HOST;
  const where = `${portName}=${port} on ${hostName}=${host}`;
  switch (failure.code) {
    case 'EADDRINUSE':
      return `cannot start: ${where} is already in use (EADDRINUSE); stop what listens there or set another ${portName}`;
    case 'EACCES':
    case 'EPERM':
      return `cannot start: not allowed to listen on ${where} (${failure.code}; ports below 1024 need privileges); set another ${portName}`;
    case 'EADDRNOTAVAIL':
      return `cannot start: ${hostName}=${host} is not an address of this machine (EADDRNOTAVAIL); set ${hostName} to one of its addresses, or 0.0.0.0`;
    default:
      return null;
  }
}

const FILE_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'ENOSPC', 'EEXIST', 'ENOENT', 'EISDIR']);
const SQLITE_FILE_ERRORS = /^SQLITE_(CANTOPEN|READONLY|IOERR|FULL|PERM)/;

function dataDirFailure(failure: FailureDetails, config: StartSettings): string | null {
  const dir = resolve(config.DATA_DIR);
  const inDataDir = typeof failure.path === 'string' && (resolve(failure.path) === dir || resolve(failure.path).startsWith(dir + sep) || dir.startsWith(resolve(failure.path) + sep));
  const sqlite = config.EVENT_STORE === 'sqlite' && typeof failure.code === 'string' && SQLITE_FILE_ERRORS.test(failure.code);
  if (!(inDataDir && failure.code && FILE_ERRORS.has(failure.code)) && !sqlite) return null;
  const why = failure.code === 'ENOSPC' || failure.code === 'SQLITE_FULL' ? 'the disk is full' : 'it cannot be created or written by this user';
  return `cannot start: DATA_DIR=${config.DATA_DIR} is not usable: ${why} (${failure.code}${failure.path ? ` at ${failure.path}` : ''}); point DATA_DIR at a directory this user can write`;
}

/**
 * Connection failures as the EventStoreDB client reports them: its error classes and gRPC status
 * texts (UNAVAILABLE, DEADLINE_EXCEEDED), cluster discovery giving up. Not any "ECONNREFUSED": a
 * Redis that does not answer must not be blamed on EVENT_STORE.
 */
const ESDB_UNREACHABLE = /\b(?:UnavailableError|DeadlineExceededError)\b|\b14 UNAVAILABLE\b|\b4 DEADLINE_EXCEEDED\b|failed to discover/i;

function eventStoreFailure(failure: FailureDetails, config: StartSettings): string | null {
  if (!config.EVENT_STORE.startsWith('esdb')) return null;
  const text = `${failure.name ?? ''} ${failure.code ?? ''} ${failure.message ?? ''}`;
  if (!ESDB_UNREACHABLE.test(text)) return null;
  return `cannot start: the event store at EVENT_STORE=${redactUrl(config.EVENT_STORE)} does not answer (${firstLine(failure.message ?? failure.code ?? 'unreachable')}); start EventStoreDB or fix EVENT_STORE`;
}

/** PostgreSQL's own refusals at connection (SQLSTATE), in words. */
const POSTGRES_REFUSALS: Record<string, string> = {
  '3D000': 'has no such database',
  '28P01': 'refused the password',
  '28000': 'refuses this user or address (pg_hba.conf)',
  '57P03': 'is starting up or shutting down',
};

function postgresFailure(failure: FailureDetails, config: StartSettings): string | null {
  if (!/^postgres(?:ql)?:\/\//.test(config.EVENT_STORE)) return null;
  let port = 5432;
  try {
    port = Number(new URL(config.EVENT_STORE).port || 5432);
  } catch {
    // config.ts validated it; keep the default port
  }
  const where = `the event store at EVENT_STORE=${redactUrl(config.EVENT_STORE)}`;
  // Socket errors carry the port they were for: only the store's port is the store's fault.
  if (failure.code && UNREACHABLE_SERVER_CODES.has(failure.code) && (failure.port === undefined || failure.port === port)) {
    return `cannot start: ${where} does not answer (${firstLine(failure.message ?? failure.code)}); start PostgreSQL or fix EVENT_STORE`;
  }
  const refusal = failure.code ? POSTGRES_REFUSALS[failure.code] : undefined;
  if (refusal) return `cannot start: PostgreSQL at EVENT_STORE=${redactUrl(config.EVENT_STORE)} ${refusal} (${firstLine(failure.message ?? failure.code!)}); fix EVENT_STORE or the server`;
  return null;
}

/** A password in the connection string is never printed (as with REDIS_URL): `user:***@`, `password=***`. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@').replace(/([?&][a-z]*password=)[^&#]*/gi, '$1***');
}

const SOCKET_ERROR_IN_TEXT = new RegExp(`\\b(?:connect |getaddrinfo )?(?:${[...UNREACHABLE_SERVER_CODES].join('|')})\\b(?: [\\w:[\\]-]+(?:\\.[\\w:[\\]-]+)*)?`);

/** The socket error inside the gRPC text when there is one (`connect ECONNREFUSED 127.0.0.1:1`), else its first line. */
function firstLine(text: string): string {
  const socket = SOCKET_ERROR_IN_TEXT.exec(text);
  return (socket?.[0] ?? text.split('\n')[0]!).trim().slice(0, 200);
}
