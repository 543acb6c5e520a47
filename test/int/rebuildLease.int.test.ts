import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuild } from '../../src/cli/rebuild.js';
import { openEventStore } from '../../src/eventStore/openEventStore.js';
import { startRedis, type RedisServer } from '../support/redisServer.js';
import { seedLog } from '../support/seedLog.js';

/**
 * `cli rebuild` holds the projector lease while it writes, and every write is fenced by a WATCH
 * on the lease key. A renewal that touches the key between a batch's WATCH and EXEC aborts that
 * batch as "fenced out" although the lease never moved: renewals must happen between batches.
 */
describe('rebuild under the projector lease', () => {
  let redis: RedisServer;
  const dataDir = mkdtempSync(join(tmpdir(), 'roomlog-rebuild-lease-'));

  beforeAll(async () => {
    redis = await startRedis();
    const store = openEventStore({ eventStore: 'sqlite', dataDir });
    await seedLog(store, { events: 6_000, rooms: 20 });
    await store.close();
  });

  afterAll(async () => {
    await redis?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('renewing the lease often never fences out its own writes', async () => {
    const report = await rebuild({ dataDir, redisUrl: redis.url, prefix: 'lease-test:', quiet: true, pageSize: 20, leaseRenewMs: 1 });
    expect(report.events).toBe(6_000);
  });
});
