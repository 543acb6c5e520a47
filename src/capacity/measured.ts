import type { UnitCosts } from './model.js';

/**
 * The unit costs the calculator uses by default: the mean of two runs of
 * `npm run bench -- --only capacity` on the development machine, 2026-11-30 (docs/capacity.md has
 * both runs, their noise and the validation), except the memory per connection, from the second
 * run only (the first measured it across a delivery step, which grew the heap by itself).
 * Measure your own hardware with `CAPACITY_COSTS_OUT=costs.json npm run bench -- --only capacity`
 * and pass `--costs costs.json`.
 */
export const MEASURED: UnitCosts = {
  measuredOn:
    '2026-11-30, mean of two bench runs on the 2-core development VM (Intel Xeon, Node 20.20.2, SQLite store) while other jobs used up to 1.9 of its 2 cores: expect a quiet machine to do better',
  nodeIdleCores: 0.037,
  nodeBaseRssBytes: 123_900_000,
  cpuUsPerSend: 2_494,
  cpuUsPerRoomMessagePerNode: 319,
  cpuUsPerDelivery: 8.54,
  cpuUsPerConnectionSecond: 2.17,
  bytesPerConnection: 23_339,
  redisCommandsPerSend: 13.2,
  redisCommandsPerNodeSecond: 7.5,
  redisCommandsPerConnectionSecond: 0,
  redisUsPerSend: 330,
  redisUsPerNodeMessage: 0,
  redisIdleCoresPerNode: 0.0025,
  storeWritesPerSend: 1,
  storeAppendMs: 0.725,
};
