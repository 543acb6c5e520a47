/**
 * `npm run capacity -- --users 100000 --rooms 5000 --msgs-per-s 2000`: how many nodes a workload
 * needs, what Redis and the event store then carry, and which part runs out first, from the unit
 * costs measured by `npm run bench -- --only capacity` (docs/capacity.md).
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { MEASURED } from './measured.js';
import { DEFAULT_BUDGETS, plan, type Budgets, type UnitCosts } from './model.js';
import { formatPlan } from './report.js';

const positive = (what: string) => (value: string) => {
  const number = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(number > 0)) throw new InvalidArgumentError(`${what} must be a number > 0`);
  return number;
};
const fraction = (value: string) => {
  const number = positive('a budget')(value);
  if (number > 1) throw new InvalidArgumentError('must be at most 1 (one event loop, one Redis thread, one SQLite writer)');
  return number;
};

const COST_KEYS = Object.keys(MEASURED) as Array<keyof UnitCosts>;

/** Unit costs from a file (the bench's CAPACITY_COSTS_OUT), each one checked. */
export function readCosts(path: string): UnitCosts {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`--costs ${path}: ${(error as Error).message}`);
  }
  const costs = parsed as Record<string, unknown>;
  const missing = COST_KEYS.filter((key) => (key === 'measuredOn' ? typeof costs[key] !== 'string' : typeof costs[key] !== 'number' || !Number.isFinite(costs[key])));
  if (missing.length > 0) throw new Error(`--costs ${path}: missing or not a number: ${missing.join(', ')}`);
  return costs as unknown as UnitCosts;
}

const program = new Command('capacity')
  .description('Nodes, Redis and event-store load for a workload, from measured unit costs (docs/capacity.md).')
  .requiredOption('--users <n>', 'connected users (one connection each)', positive('--users'))
  .requiredOption('--rooms <n>', 'rooms, users spread evenly over them', positive('--rooms'))
  .requiredOption('--msgs-per-s <n>', 'messages sent per second, spread evenly over the rooms', positive('--msgs-per-s'))
  .option('--rooms-per-user <n>', 'rooms each user follows', positive('--rooms-per-user'), 1)
  .option('--node-cores <f>', 'cores one node may use (≤ 1: one event loop)', fraction, DEFAULT_BUDGETS.nodeCores)
  .option('--node-memory-mb <n>', 'memory one node may use', positive('--node-memory-mb'), DEFAULT_BUDGETS.nodeMemoryBytes / 1024 ** 2)
  .option('--redis-cores <f>', 'cores Redis may use (≤ 1: one thread)', fraction, DEFAULT_BUDGETS.redisCores)
  .option('--store-busy <f>', "share of time the event store's single writer may be busy (SQLite)", fraction, DEFAULT_BUDGETS.storeBusy)
  .option('--store-max-writes-per-s <n>', 'instead: appends/s the event store takes (e.g. a PostgreSQL measured with npm run bench)', positive('--store-max-writes-per-s'))
  .option('--costs <file>', 'unit costs from CAPACITY_COSTS_OUT=<file> npm run bench -- --only capacity (default: the figures in docs/capacity.md)')
  .option('--json', 'the plan as JSON')
  .showHelpAfterError();

program.action(
  (options: {
    users: number;
    rooms: number;
    msgsPerS: number;
    roomsPerUser: number;
    nodeCores: number;
    nodeMemoryMb: number;
    redisCores: number;
    storeBusy: number;
    storeMaxWritesPerS?: number;
    costs?: string;
    json?: boolean;
  }) => {
    let costs: UnitCosts;
    try {
      costs = options.costs ? readCosts(options.costs) : MEASURED;
    } catch (error) {
      console.error((error as Error).message);
      process.exit(1);
    }
    const workload = { users: options.users, rooms: options.rooms, msgsPerS: options.msgsPerS, roomsPerUser: options.roomsPerUser };
    const budgets: Budgets = {
      ...DEFAULT_BUDGETS,
      nodeCores: options.nodeCores,
      nodeMemoryBytes: options.nodeMemoryMb * 1024 ** 2,
      redisCores: options.redisCores,
      storeBusy: options.storeBusy,
      ...(options.storeMaxWritesPerS !== undefined ? { storeMaxWritesPerS: options.storeMaxWritesPerS } : {}),
    };
    const result = plan(costs, workload, budgets);
    console.log(options.json ? JSON.stringify({ workload, budgets, costs, plan: result }, null, 2) : formatPlan(result, workload, costs, budgets));
  },
);

program.parse();
