import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { clusterLoad, DEFAULT_BUDGETS, localShare, nodesFor, plan, scaleUntil, subscribersPerRoom, type UnitCosts } from '../../src/capacity/model.js';

/** Round numbers, so every expectation below can be checked by hand. */
const COSTS: UnitCosts = {
  measuredOn: 'test',
  nodeIdleCores: 0.05,
  nodeBaseRssBytes: 100e6,
  cpuUsPerSend: 1_000,
  cpuUsPerRoomMessagePerNode: 100,
  cpuUsPerDelivery: 10,
  cpuUsPerConnectionSecond: 2,
  bytesPerConnection: 20_000,
  redisCommandsPerSend: 10,
  redisCommandsPerNodeSecond: 5,
  redisCommandsPerConnectionSecond: 0.1,
  redisUsPerSend: 100,
  redisUsPerNodeMessage: 10,
  redisIdleCoresPerNode: 0.01,
  storeWritesPerSend: 1,
  storeAppendMs: 0.5,
};

describe('capacity model arithmetic', () => {
  it('subscribers per room and the chance a node holds one of them', () => {
    expect(subscribersPerRoom({ users: 1_000, rooms: 100, msgsPerS: 1 })).toBe(10);
    expect(subscribersPerRoom({ users: 1_000, rooms: 100, msgsPerS: 1, roomsPerUser: 3 })).toBe(30);
    expect(localShare(10, 1)).toBe(1);
    expect(localShare(0, 1)).toBe(0);
    expect(localShare(1, 2)).toBeCloseTo(0.5, 10);
    expect(localShare(2, 2)).toBeCloseTo(0.75, 10); // 1 − (1/2)²
    expect(localShare(3, 4)).toBeCloseTo(1 - 0.75 ** 3, 10);
  });

  it('one node: every term by hand', () => {
    // 1,000 users in 100 rooms (10 each), 100 msgs/s → 1,000 deliveries/s.
    const load = clusterLoad(COSTS, { users: 1_000, rooms: 100, msgsPerS: 100 }, 1);
    expect(load.deliveriesPerS).toBe(1_000);
    expect(load.perNode).toMatchObject({ connections: 1_000, sendsPerS: 100, deliveriesPerS: 1_000, roomMessagesPerS: 100 });
    // 0.05 + (1,000×2 + 100×1,000 + 100×100 + 1,000×10) µs/s = 0.05 + 0.122 cores
    expect(load.perNode.cores).toBeCloseTo(0.172, 10);
    expect(load.perNode.memoryBytes).toBe(100e6 + 1_000 * 20_000);
    // 100×10 + 1×5 + 1,000×0.1 commands/s; 0.01 + (100×100 + 100×10)/1e6 cores
    expect(load.redis.commandsPerS).toBeCloseTo(1_105, 10);
    expect(load.redis.pubsubMessagesPerS).toBe(100);
    expect(load.redis.cores).toBeCloseTo(0.021, 10);
    expect(load.store).toEqual({ writesPerS: 100, busy: 0.05 });
  });

  it('two nodes: connections, sends and deliveries halve; each node still takes in the rooms it has subscribers of', () => {
    const load = clusterLoad(COSTS, { users: 1_000, rooms: 100, msgsPerS: 100 }, 2);
    const share = 1 - 0.5 ** 10;
    expect(load.perNode).toMatchObject({ connections: 500, sendsPerS: 50, deliveriesPerS: 500 });
    expect(load.perNode.roomMessagesPerS).toBeCloseTo(100 * share, 10);
    expect(load.perNode.cores).toBeCloseTo(0.05 + (500 * 2 + 50 * 1_000 + 100 * share * 100 + 500 * 10) / 1e6, 10);
    expect(load.redis.pubsubMessagesPerS).toBeCloseTo(200 * share, 10);
    expect(load.redis.cores).toBeCloseTo(0.02 + (100 * 100 + 200 * share * 10) / 1e6, 10);
    expect(load.redis.commandsPerS).toBeCloseTo(1_000 + 10 + 100, 10);
  });

  it('plans the fewest nodes within the CPU and memory budgets', () => {
    // 2,000 msgs/s: sends alone are 2 cores of node CPU → at least 3 nodes at 0.7 each; by hand:
    // n nodes: 0.05 + (10,000×2/n + 2,000×1,000/n + 2,000×share(n)×100 + 20,000×10/n)/1e6.
    const w = { users: 10_000, rooms: 1_000, msgsPerS: 2_000 };
    const nodes = nodesFor(COSTS, w, DEFAULT_BUDGETS);
    const cores = (n: number) => 0.05 + ((10_000 * 2) / n + (2_000 * 1_000) / n + 2_000 * localShare(10, n) * 100 + (20_000 * 10) / n) / 1e6;
    expect(cores(nodes)).toBeLessThanOrEqual(0.7);
    expect(cores(nodes - 1)).toBeGreaterThan(0.7);
    expect(nodes).toBe(5);
    const p = plan(COSTS, w);
    expect(p).toMatchObject({ nodes: 5, fits: true });
    expect(p.perNode.cores).toBeCloseTo(cores(5), 10);
    expect(p.use['node CPU']).toBeCloseTo(cores(5) / 0.7, 10);
  });

  it('memory can be what decides the node count', () => {
    // 100,000 idle users, no messages: 0.05 + 0.2/n cores, but 100 MB + 2 GB/n of memory in 1 GiB each.
    const p = plan(COSTS, { users: 100_000, rooms: 100, msgsPerS: 0.001 });
    const memory = (n: number) => 100e6 + (100_000 / n) * 20_000;
    expect(memory(p.nodes)).toBeLessThanOrEqual(1024 ** 3);
    expect(memory(p.nodes - 1)).toBeGreaterThan(1024 ** 3);
    expect(p.nodes).toBe(3);
  });

  it('names what saturates first, and how far each shared part goes', () => {
    // Store: 0.5 ms per append → busy 0.7 at 1,400 appends/s. Redis: ≈100 µs/send → 0.7 cores near 7,000 msgs/s.
    const w = { users: 1_000, rooms: 100, msgsPerS: 100 };
    const p = plan(COSTS, w);
    expect(p.headroom['event store']).toBeCloseTo(14, 2);
    expect(p.headroom['Redis CPU']).toBeGreaterThan(p.headroom['event store']);
    expect(p.saturatesFirst).toBe('event store');
    // A store given as 100,000 appends/s no longer limits: Redis does.
    const pg = plan(COSTS, w, { ...DEFAULT_BUDGETS, storeMaxWritesPerS: 100_000 });
    expect(pg.headroom['event store']).toBeCloseTo(1_000, 0);
    expect(pg.saturatesFirst).toBe('Redis CPU');
    expect(scaleUntil(COSTS, w, DEFAULT_BUDGETS, (l) => l.redis.cores / 0.7)).toBeCloseTo(pg.headroom['Redis CPU'], 6);
  });

  it('when no node count fits (every node must take in every room message), says so', () => {
    // One room of 100,000 users at 10,000 msgs/s: each node takes in 10,000 room messages/s × 100 µs = 1 core.
    const p = plan(COSTS, { users: 100_000, rooms: 1, msgsPerS: 10_000 });
    expect(p.fits).toBe(false);
    expect(p.saturatesFirst).toBe('node CPU');
  });
});

describe('npm run capacity', () => {
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/capacity/main.ts', ...args], { timeout: 30_000 }).then(
      (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code, out: e.stdout ?? '', err: e.stderr ?? '' }),
    );

  it('prints nodes, Redis and store load and what saturates first; --json gives the same plan', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'capacity-'));
    try {
      writeFileSync(join(dir, 'costs.json'), JSON.stringify(COSTS));
      const args = ['--users', '10000', '--rooms', '1000', '--msgs-per-s', '2000', '--costs', join(dir, 'costs.json')];
      const text = await run(args);
      expect(text.code).toBe(0);
      expect(text.out).toMatch(/^Nodes: 5 /m);
      expect(text.out).toMatch(/^Redis: [\d,]+ commands\/s/m);
      expect(text.out).toMatch(/^Event store: 2,000 appends\/s/m);
      expect(text.out).toMatch(/^Saturates first: event store/m);
      const json = await run([...args, '--json']);
      expect(JSON.parse(json.out).plan).toMatchObject({ nodes: 5, saturatesFirst: 'event store' });

      writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...COSTS, cpuUsPerSend: 'x' }));
      const bad = await run([...args.slice(0, 6), '--costs', join(dir, 'bad.json')]);
      expect(bad.code).toBe(1);
      expect(bad.err).toContain('missing or not a number: cpuUsPerSend');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad arguments: one clear line each, exit 1', async () => {
    const missing = await run(['--users', '10']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/required option '--rooms <n>' not specified/);
    const negative = await run(['--users', '-5', '--rooms', '1', '--msgs-per-s', '1']);
    expect(negative.code).toBe(1);
    expect(negative.err).toMatch(/--users must be a number > 0/);
    const budget = await run(['--users', '5', '--rooms', '1', '--msgs-per-s', '1', '--node-cores', '2']);
    expect(budget.code).toBe(1);
    expect(budget.err).toMatch(/at most 1/);
  });
});
