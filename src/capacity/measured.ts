import type { UnitCosts } from './model.js';

/**
 * The unit costs the calculator uses by default: `npm run bench -- --only capacity` on the
 * development machine, 2026-11-30 (docs/capacity.md has the run, its noise and the validation).
 * Measure your own hardware with `CAPACITY_COSTS_OUT=costs.json npm run bench -- --only capacity`
 * and pass `--costs costs.json`.
 */
export const MEASURED: UnitCosts = {
  measuredOn:
    '2026-11-30, bench run on the 2-core development VM (Intel Xeon, Node 20.20.2, SQLite store) while other jobs used ~1.5-1.9 of its 2 cores: expect a quiet machine to do better',
  nodeIdleCores: 0.0357,
  nodeBaseRssBytes: 128_565_248,
  cpuUsPerSend: 1_825.3,
  cpuUsPerRoomMessagePerNode: 638.4,
  cpuUsPerDelivery: 7.8985,
  cpuUsPerConnectionSecond: 0.5888,
  bytesPerConnection: 83_856,
  redisCommandsPerSend: 11.2,
  redisCommandsPerNodeSecond: 7.5,
  redisCommandsPerConnectionSecond: 0,
  redisUsPerSend: 211.2,
  redisUsPerNodeMessage: 0,
  redisIdleCoresPerNode: 0.0025,
  storeWritesPerSend: 1,
  storeAppendMs: 1.0936,
};
