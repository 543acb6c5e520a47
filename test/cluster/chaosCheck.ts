/**
 * One chaos run and its checks (chaos.e2e.test.ts, and chaos.postgres.e2e.test.ts with the nodes
 * on PostgreSQL): runs the scenario, prints what happened, and asserts nothing was lost,
 * duplicated or reordered, every acknowledged send is in the log once, client-visible errors stay
 * within the budget, and every node's read models match the log.
 */
import { expect } from 'vitest';
import { range } from '../support/gql.js';
import { viaBalancer } from '../support/balancerProcess.js';
import { nodeId, problemLines } from '../support/cluster.js';
import { errorTable } from '../support/clientErrors.js';
import { compareReadModelsWithLog } from '../support/readModelCheck.js';
import { clientErrors, runChaos, type ChaosPlan } from './chaosScenario.js';
import { FAULT_TAIL_MS, accountChaos } from './chaosAccounting.js';

/** The faults' timing, shared by both runs: each strikes at its time, whether or not the last one's replacement node is up yet. */
export const TIMING = { spanMs: 20_000, killAt: 2_500, redisAt: 7_000, sigtermAt: 11_500, redisDownMs: 3_000 };

export async function checkChaos(label: string, plan: ChaosPlan): Promise<void> {
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

