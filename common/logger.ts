import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export interface LoggerSettings {
  level: string;
  nodeId: string;
  /**
   * Readable lines (pino-pretty) instead of JSON. Default: when stdout is a terminal, so a person
   * running `npm start` reads sentences while a supervisor, a pipe or a log collector gets JSON.
   */
  pretty?: boolean;
}

/** Structured logs on stdout: JSON, or readable lines in a terminal. Never log tokens, passwords or message bodies. */
export function createLogger(options: LoggerSettings): Logger {
  const settings: LoggerOptions = {
    level: options.level,
    base: { node: options.nodeId },
    redact: { paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'], remove: true },
  };
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  return pretty ? pino(settings, prettyStream()) : pino(settings);
}

/**
 * pino-pretty in this thread (not pino's worker transport: nothing to spawn, and a line is on the
 * screen before the process can exit), loaded only for a terminal: a node logging JSON never pays
 * for it at start.
 */
function prettyStream(): DestinationStream {
  const require = createRequire(import.meta.url);
  const build = require('pino-pretty') as (options: Record<string, unknown>) => DestinationStream;
  return build({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,node', singleLine: true });
}

export type { Logger };
