/**
 * Chaos, bounded (docs/architecture.md, "The guarantees"; README, "Consistency"), run twice
 * (chaosScenario.ts): 3 nodes and light clients in a few rooms, each following its room and
 * sending to it, every send retried with the same clientMessageId until acknowledged — while one
 * node is killed with -9, Redis is killed and restarted, and another node is SIGTERMed.
 *   1. direct to the nodes: clients pick a live node and resume on another with their last seq;
 *   2. through the balancer (BACKENDS = the nodes, replacements on the same ports): clients know
 *      only the balancer, so what fails reaches them as it would a user.
 * Both runs are bounded to fit the file in two minutes on two busy cores: 20 s of sending each.
 * Each run: every client has exactly (afterSeq, head] of its room, ascending, once; the log has
 * every acknowledged send exactly once; client-visible errors are printed by cause and must stay
 * within the budget (none for the Redis restart and the SIGTERM, for the kill -9 only what was in
 * flight on the dead node); and at the end every node's history, room list and room views are
 * exactly what the log says.
 */
import { afterAll, it } from 'vitest';
import { killAllNodes } from '../support/nodeProcess.js';
import { stopAllRedis } from '../support/redisServer.js';
import { killAllBalancers } from '../support/balancerProcess.js';
import { TIMING, checkChaos } from './chaosCheck.js';

afterAll(async () => {
  await killAllBalancers();
  await killAllNodes();
  await stopAllRedis();
});

it('direct to the nodes: 3 nodes, 60 clients, 1,200 messages through kill -9, a Redis restart and a SIGTERM: nothing lost, duplicated or reordered; read models match the log', { timeout: 75_000 }, async () => {
  await checkChaos('direct', { name: 'c', viaBalancer: false, rooms: 6, clients: 60, perClient: 20, ...TIMING });
});

it('through the balancer: 3 nodes, 60 clients, 1,200 messages through the same faults: errors within the budget, nothing lost, duplicated or reordered; read models match the log', { timeout: 75_000 }, async () => {
  await checkChaos('through the balancer', { name: 'b', viaBalancer: true, rooms: 6, clients: 60, perClient: 20, ...TIMING });
});
