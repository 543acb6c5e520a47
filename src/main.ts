import { JwtSecretError } from './auth/jwtSecret.js';
import { ConfigError, loadConfig } from './config.js';
import { RedisWaitTimeout } from './redisConnection.js';
import { buildApp } from './server/app.js';
import { describeStartupFailure, redactUrl } from './startupFailure.js';

/**
 * Reads the configuration, starts one node, and stops it gracefully on SIGTERM/SIGINT. The node
 * listens at once (/healthz answers) and prints `listening on` once it serves; a node that cannot
 * start says why in one line and exits 1.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  let app;
  try {
    app = await buildApp(config);
  } catch (error) {
    exitIfExplained(error, config);
    throw error;
  }
  const { log } = app.services;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 9_000);
    force.unref();
    app.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // Before start: a node still waiting for Redis stops cleanly too.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (error) => log.error({ err: error }, 'unhandled rejection'));

  let url: string;
  try {
    url = await app.start();
  } catch (error) {
    if (stopping) return; // stopped while starting: stop() exits
    exitIfExplained(error, config);
    if (error instanceof RedisWaitTimeout) log.fatal(error.message);
    else log.fatal({ err: error }, 'could not start');
    process.exit(1);
  }
  log.info({ url, eventStore: redactUrl(config.EVENT_STORE), redis: Boolean(config.REDIS_URL) }, `listening on ${url}`);
  // Where a person goes next, in one line: the web chat and (unless turned off) GraphiQL.
  log.info({ webChat: `${url}/`, graphiql: config.GRAPHIQL ? `${url}/graphql` : null }, `web chat: ${url}/${config.GRAPHIQL ? `  GraphiQL: ${url}/graphql` : ''}`);
}

/**
 * A start-up failure outside the node (port taken, DATA_DIR unwritable, event store unreachable)
 * is a setting to fix, not a bug: one line on stderr naming it, exit 1 (src/startupFailure.ts).
 */
function exitIfExplained(error: unknown, config: Parameters<typeof describeStartupFailure>[1]): void {
  const line = describeStartupFailure(error, config);
  if (line === null) return;
  console.error(line);
  process.exit(1);
}

main().catch((error) => {
  // A secret too short to sign with (src/auth/jwtSecret.ts) is a setting to fix: its message only.
  console.error(error instanceof JwtSecretError ? error.message : error);
  process.exit(1);
});
