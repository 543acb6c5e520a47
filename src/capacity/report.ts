import type { Budgets, Plan, UnitCosts, Workload } from './model.js';

/** The calculator's answer as text: what the workload is, how many nodes, what Redis and the store carry, and what runs out first. */
export function formatPlan(p: Plan, w: Workload, costs: UnitCosts, budgets: Budgets): string {
  const n = (x: number, digits = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '∞');
  const pct = (x: number) => `${n(100 * x)} %`;
  const mb = (bytes: number) => `${n(bytes / 1024 ** 2)} MB`;
  const times = (k: number) => (Number.isFinite(k) ? `${n(k, k < 10 ? 1 : 0)}×` : 'beyond 1,000,000×');
  const store =
    budgets.storeMaxWritesPerS !== undefined
      ? `${pct(p.use['event store'])} of the ${n(budgets.storeMaxWritesPerS)} appends/s given`
      : `its single writer busy ${pct(p.store.busy)} of the time (budget ${pct(budgets.storeBusy)}; SQLite, ${n(costs.storeAppendMs, 2)} ms per append)`;
  const lines = [
    `Workload: ${n(w.users)} connected users, ${n(w.rooms)} rooms (${n(p.subscribersPerRoom, 1)} subscribers each), ${n(w.msgsPerS)} messages/s → ${n(p.deliveriesPerS)} deliveries/s`,
    `Unit costs: ${costs.measuredOn} (docs/capacity.md)`,
    '',
    p.fits
      ? `Nodes: ${n(p.nodes)} (each within ${n(budgets.nodeCores, 2)} cores and ${mb(budgets.nodeMemoryBytes)})`
      : `Nodes: NONE FITS up to ${n(budgets.maxNodes)} nodes — each node would still need ${n(p.perNode.cores, 2)} cores (room messages every node must take in: ${n(p.perNode.roomMessagesPerS)}/s)`,
    `  per node: ${n(p.perNode.connections)} connections, ${n(p.perNode.sendsPerS)} sends/s, ${n(p.perNode.deliveriesPerS)} deliveries/s, ${n(p.perNode.roomMessagesPerS)} room messages/s from Redis → ${n(p.perNode.cores, 2)} cores (${pct(p.use['node CPU'])}), ${mb(p.perNode.memoryBytes)} (${pct(p.use['node memory'])})`,
    `Redis: ${n(p.redis.commandsPerS)} commands/s, ${n(p.redis.pubsubMessagesPerS)} pub/sub messages/s out, ${n(p.redis.cores, 2)} cores (${pct(p.use['Redis CPU'])} of its ${n(budgets.redisCores, 2)}-core budget)`,
    `Event store: ${n(p.store.writesPerS)} appends/s; ${store}`,
    '',
    `Saturates first: ${p.saturatesFirst}` +
      (p.fits
        ? ` — the shared parts reach their budget at ${times(p.headroom['Redis CPU'])} this load (Redis CPU) and ${times(p.headroom['event store'])} (event store); nodes are added as load grows`
        : ' — add cores per node, or split the rooms over separate clusters'),
  ];
  return lines.join('\n');
}
