import { pino, type Logger } from 'pino';

/** Structured JSON logs on stdout. Never log tokens, passwords or message bodies. */
export function createLogger(options: { level: string; nodeId: string }): Logger {
  return pino({
    level: options.level,
    base: { node: options.nodeId },
    redact: { paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'], remove: true },
  });
}

export type { Logger };
