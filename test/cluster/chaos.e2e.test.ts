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
import { afterAll, expect, it } from 'vitest';
import { range } from '../support/gql.js';
import { killAllNodes } from '../support/nodeProcess.js';
import { stopAllRedis } from '../support/redisServer.js';
import { killAllBalancers, viaBalancer } from '../support/balancerProcess.js';
import { nodeId, problemLines } from '../support/cluster.js';
import { errorTable } from '../support/clientErrors.js';
import { compareReadModelsWithLog } from '../support/readModelCheck.js';
import { clientErrors, runChaos, type ChaosPlan } from './chaosScenario.js';
import { FAULT_TAIL_MS, accountChaos } from './chaosAccounting.js';

afterAll(async () => {
  await killAllBalancers();
  await killAllNodes();
  await stopAllRedis();
});

/** The faults' timing, shared by both runs: each strikes at its time, whether or not the last one's replacement node is up yet. */
const TIMING = { spanMs: 20_000, killAt: 2_500, redisAt: 7_000, sigtermAt: 11_500, redisDownMs: 3_000 };

async function chaos(label: string, plan: ChaosPlan): Promise<void> {
  const run = await runChaos(plan);
  const errors = clientErrors(run);
  const account = accountChaos(run, errors);

  // ---- every node's read models against the log -------------------------------------------------
  const compareStart = Date.now();
  const live = run.cluster.live();
  const comparison = await compareReadModelsWithLog({ nodes: live.map((n) => ({ url: n.url, name: nodeId(n) })), token: run.owner.token, roomIds: run.roomIds });
  const compareMs = Date.now() - compareStart;

  const sendCount = plan.clients * plan.perClient;
  console.log(
    [
      `chaos ${label}: ${plan.clients} clients, ${plan.rooms} rooms, ${sendCount} sends in ${run.sendingMs} ms (after ${run.t0 - run.setupAt} ms of setup); ${run.cluster.nodes.length} nodes started`,
      ...run.faults.map((f) => `  fault +${f.start - run.t0} ms: ${f.name} (${f.end - f.start} ms) — ${f.note}`),
      ...errorTable(errors, run.faults, FAULT_TAIL_MS),
      ...account.report,
      `  read models vs the log: ${comparison.nodes} nodes × ${comparison.rooms} rooms, ${comparison.messages} messages each, in ${compareMs} ms; ` +
        `${comparison.retried} reads answered UNAVAILABLE and asked again; ${comparison.mismatches.length} mismatches`,
      ...comparison.mismatches.slice(0, 10).map((m) => `  ${m}`),
    ].join('\n'),
  );
  const problems = problemLines([...run.cluster.nodes, ...(run.balancer ? [viaBalancer(run.balancer)] : [])]);
  if (problems.length) console.log(`log lines at level ≥ 40:\n${problems.join('\n')}`);

  for (const client of run.clients) client.follower.close();
  expect(run.drainExit).toMatchObject({ code: 0 });
  expect(account.sends.unacked).toEqual([]);
  expect({ ...account.delivery, problems: account.problems.slice(0, 5) }).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, wrongContent: 0, problems: [] });
  expect(account.sends).toMatchObject({ missing: 0, duplicated: 0, wrongSeq: 0, unknownPosts: 0, loggedOnce: sendCount });
  for (const roomId of run.roomIds) expect(run.logs.get(roomId)!.map((e) => e.seq)).toEqual(range(1, run.logs.get(roomId)!.at(-1)!.seq));
  expect(account.overBudget, 'client-visible errors beyond the budget').toEqual([]);
  expect(comparison.mismatches, 'read models that differ from the log').toEqual([]);

  if (run.balancer) expect(await run.balancer.stop()).toBe(0);
  expect(await Promise.all(live.map((node) => node.stop()))).toEqual(live.map(() => 0));
}

it('direct to the nodes: 3 nodes, 60 clients, 1,200 messages through kill -9, a Redis restart and a SIGTERM: nothing lost, duplicated or reordered; read models match the log', { timeout: 75_000 }, async () => {
  await chaos('direct', { name: 'c', viaBalancer: false, rooms: 6, clients: 60, perClient: 20, ...TIMING });
});

it('through the balancer: 3 nodes, 60 clients, 1,200 messages through the same faults: errors within the budget, nothing lost, duplicated or reordered; read models match the log', { timeout: 75_000 }, async () => {
  await chaos('through the balancer', { name: 'b', viaBalancer: true, rooms: 6, clients: 60, perClient: 20, ...TIMING });
});
