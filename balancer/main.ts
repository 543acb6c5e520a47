import { ConfigError } from '../common/env.js';
import { createLogger } from '../common/logger.js';
import { loadBalancerConfig } from './config.js';
import { buildBalancer } from './server.js';
import { WORKER_FLAG, runPrimary, runWorker } from './workers.js';

/** `npm run balancer`: reads config, starts the balancer (WORKERS processes), stops on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadBalancerConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const isWorker = process.argv.includes(WORKER_FLAG);
  if (config.WORKERS > 1 || isWorker) {
    const log = createLogger({ level: config.LOG_LEVEL, nodeId: isWorker ? `balancer-w${process.pid}` : 'balancer' });
    return isWorker ? runWorker(config, log) : runPrimary(config, log);
  }
  const log = createLogger({ level: config.LOG_LEVEL, nodeId: 'balancer' });
  const balancer = buildBalancer(config, log);
  const url = await balancer.start();
  log.info({ url, backends: config.BACKENDS, discovery: Boolean(config.REDIS_URL) }, `balancer listening on ${url}`);
  const stop = () => balancer.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
