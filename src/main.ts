import { ConfigError, loadConfig } from './config.js';
import { buildApp } from './server/app.js';

/** Reads the configuration, starts one node, and stops it gracefully on SIGTERM/SIGINT. */
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
  const app = await buildApp(config);
  const { log } = app.services;
  const url = await app.start();
  log.info({ url, eventStore: config.EVENT_STORE.startsWith('esdb') ? 'esdb' : config.EVENT_STORE, redis: Boolean(config.REDIS_URL) }, `listening on ${url}`);
  log.info(`GraphiQL: ${url}/graphql`);

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
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (error) => log.error({ err: error }, 'unhandled rejection'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
