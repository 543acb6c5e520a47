import { afterAll, it } from 'vitest';
import { sleep } from '../support/gql.js';
import { killAllNodes, type NodeHandle } from '../support/nodeProcess.js';
import { stopAllRedis } from '../support/redisServer.js';
import { startCluster } from '../support/cluster.js';
import { killAllBalancers, startBalancer, viaBalancer } from '../support/balancerProcess.js';
import { followersThrough } from './roomTraffic.js';

afterAll(async () => { await killAllBalancers(); await killAllNodes(); await stopAllRedis(); });
const conns = async (n: NodeHandle) => ((await (await fetch(`${n.url}/readyz`)).json()) as { connections: number }).connections;

it('dist', { timeout: 120_000 }, async () => {
  const cluster = await startCluster({ nodes: 3, name: 'dd', env: { RATE_LIMIT_MESSAGES: '0' } });
  const balancer = await startBalancer({ env: { BACKENDS: cluster.nodes.map((n) => n.url).join(','), LOG_LEVEL: 'debug' } });
  await balancer.waitForBackends((list) => list.length === 3 && list.every((b) => b.ready), 10_000, 'ready');
  const traffic = await followersThrough(() => viaBalancer(balancer), 30);
  for (let i = 0; i < 4; i++) {
    console.log(JSON.stringify((await balancer.backends()).map((b) => b.open)), JSON.stringify(await Promise.all(cluster.nodes.map(conns))));
    await sleep(500);
  }
  console.log(traffic.followers.map((f) => `${f.subscriptions.length}:${f.closes.length}`).join(' '));
});
