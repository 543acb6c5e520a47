import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBroker } from '../../src/broker/memoryBroker.js';
import { roomStream } from '../../src/domain/events.js';
import { createMemoryEventStore } from '../../src/eventStore/memoryEventStore.js';
import type { Lease } from '../../src/projector/lease.js';
import { createLeasedProjectionRunner } from '../../src/projector/leasedRunner.js';
import type { ProjectionRunner } from '../../src/projector/runner.js';
import { createMemoryReadModelStore } from '../../src/readModels/memoryReadModelStore.js';
import { created, joined, posted, alice } from './fixtures.js';

/*
 * The lease holder notices read models lost behind its back (Redis restarted empty, FLUSHALL: here
 * the memory store's clear() plays that part) and rebuilds them from the log, whether the log is
 * idle (its periodic check, or a read's `rewind`) or busy (the next batch is refused).
 */

const alwaysHeld: Lease = { acquireOrRenew: async () => true, current: () => ({ key: 'lease', token: 't' }), release: async () => {} };

let runner: ProjectionRunner | null = null;
afterEach(async () => {
  await runner?.close();
  runner = null;
});

async function setUp(options: { verifyIntervalMs: number }) {
  const store = createMemoryEventStore();
  const readModels = createMemoryReadModelStore();
  for (const roomId of ['a', 'b']) {
    await store.append(roomStream(roomId), [created(roomId), joined(roomId, alice), ...[1, 2, 3].map((n) => posted(roomId, `${roomId}~m${n}`, `m${n}`))].map((body, i) => ({ id: `${roomId}-${i}`, ...body })), {
      expectedRevision: 0,
    });
  }
  const errors: string[] = [];
  runner = createLeasedProjectionRunner({
    store,
    readModels,
    lease: alwaysHeld,
    broker: createMemoryBroker(),
    leaseIntervalMs: options.verifyIntervalMs,
    verifyIntervalMs: options.verifyIntervalMs,
    idleMs: 2,
    onError: (error) => errors.push((error as Error).message),
  });
  await runner.start();
  await runner.waitFor(10, 2_000);
  return { store, readModels, errors, runner };
}

/** Resolves once the read models hold the whole log of both rooms again. */
async function rebuilt(readModels: ReturnType<typeof createMemoryReadModelStore>, head: number): Promise<void> {
  await expect.poll(() => readModels.checkpoint(), { timeout: 2_000, interval: 5 }).toBe(head);
  expect(await readModels.room('a')).toMatchObject({ headSeq: 5, memberCount: 1 });
  expect((await readModels.messages('b', { limit: 10 })).map((m) => m.body)).toEqual(['m1', 'm2', 'm3']);
}

describe('leased projection runner: read models lost under the lease holder', () => {
  it('an idle log: the periodic check sees the checkpoint gone and rebuilds from the start', async () => {
    const { readModels, errors } = await setUp({ verifyIntervalMs: 20 });
    await readModels.clear();
    await rebuilt(readModels, 10);
    expect(errors.some((message) => /read models lost/.test(message))).toBe(true);
  });

  it('a read that finds them behind (rewind) makes the holder check at once, whatever its interval', async () => {
    const { readModels, runner } = await setUp({ verifyIntervalMs: 60_000 });
    await readModels.clear();
    runner.rewind(0);
    expect(runner.position()).toBe(0);
    await rebuilt(readModels, 10);
    await runner.waitFor(10, 1_000);
  });

  it('a busy log: the next batch is refused for the old checkpoint, and the rebuild includes it', async () => {
    const { store, readModels } = await setUp({ verifyIntervalMs: 60_000 });
    await readModels.clear();
    await store.append(roomStream('a'), [{ id: 'a-late', ...posted('a', 'a~late', 'late') }], { expectedRevision: 5 });
    await expect.poll(() => readModels.checkpoint(), { timeout: 2_000, interval: 5 }).toBe(11);
    expect((await readModels.messages('a', { limit: 10 })).map((m) => m.body)).toEqual(['m1', 'm2', 'm3', 'late']);
    expect(await readModels.room('b')).toMatchObject({ headSeq: 5 });
  });
});
