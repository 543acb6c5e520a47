import { describe, expect, it } from 'vitest';
import { createMemoryBroker } from '../../src/broker/memoryBroker.js';
import { presenceChannel } from '../../src/broker/broker.js';
import { createMemoryPresenceStore } from '../../src/presence/memoryPresenceStore.js';
import type { PresenceView } from '../../src/presence/presenceView.js';
import { publishPresenceChanges } from '../../src/server/presencePublisher.js';
import { createLogger } from '../../common/logger.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function setup(delayMs: number, timing: { perUserMs?: number; maxMs?: number } = { perUserMs: 0 }) {
  const presence = createMemoryPresenceStore();
  const broker = createMemoryBroker();
  let snapshots = 0;
  const counted = { ...presence, onChange: presence.onChange.bind(presence), snapshot: (roomId: string) => (snapshots++, presence.snapshot(roomId)) };
  const published: PresenceView[] = [];
  await broker.subscribe(presenceChannel('r'), (view) => void published.push(view as PresenceView));
  const publisher = publishPresenceChanges(counted, broker, createLogger({ level: 'silent', nodeId: 't' }), { delayMs, ...timing });
  return { presence, published, publisher, snapshots: () => snapshots };
}

describe('publishPresenceChanges', () => {
  it('a burst of joins in one room is one snapshot holding all of them', async () => {
    const { presence, published, publisher, snapshots } = await setup(30);
    await Promise.all(Array.from({ length: 200 }, (_, i) => presence.connect('r', { id: `u${i}`, name: `n${i}` }, `c${i}`)));
    await expect.poll(() => published.length).toBe(1);
    await sleep(60);
    expect(published).toHaveLength(1);
    expect(snapshots()).toBe(1);
    expect(published[0]!.count).toBe(200);
    publisher.close();
  });

  it('a change after a publish is published too, so the last view is never stale', async () => {
    const { presence, published, publisher } = await setup(20);
    await presence.connect('r', { id: 'a', name: 'A' }, 'c1');
    await expect.poll(() => published.length).toBe(1);
    await presence.disconnect('r', 'a', 'c1');
    await expect.poll(() => published.length).toBe(2);
    expect(published.at(-1)!.count).toBe(0);
    publisher.close();
  });

  it('a large room waits longer between snapshots, in proportion to the users its last one held', async () => {
    const { presence, published, publisher } = await setup(10, { perUserMs: 1, maxMs: 10_000 });
    await Promise.all(Array.from({ length: 100 }, (_, i) => presence.connect('r', { id: `u${i}`, name: `n${i}` }, `c${i}`)));
    await expect.poll(() => published.length).toBe(1);
    // The last snapshot held 100 users: the next change waits 10 + 100 × 1 ms.
    const changedAt = performance.now();
    await presence.connect('r', { id: 'late', name: 'Late' }, 'c-late');
    await expect.poll(() => published.length, { timeout: 2_000 }).toBe(2);
    expect(performance.now() - changedAt).toBeGreaterThanOrEqual(100);
    expect(published[1]!.count).toBe(101);
    publisher.close();
  });

  it('the wait never exceeds maxMs, however large the room', async () => {
    const { presence, published, publisher } = await setup(10, { perUserMs: 1_000, maxMs: 40 });
    await presence.connect('r', { id: 'a', name: 'A' }, 'c1');
    await expect.poll(() => published.length).toBe(1);
    const changedAt = performance.now();
    await presence.connect('r', { id: 'b', name: 'B' }, 'c2');
    await expect.poll(() => published.length, { timeout: 500 }).toBe(2);
    expect(performance.now() - changedAt).toBeLessThan(400);
    publisher.close();
  });

  it('reads and publishes no snapshot of a room whose presence nobody follows', async () => {
    const { presence, published, publisher, snapshots } = await setup(10);
    await presence.connect('unwatched', { id: 'a', name: 'A' }, 'c1');
    await presence.connect('r', { id: 'b', name: 'B' }, 'c2');
    await expect.poll(() => published.length).toBe(1);
    await sleep(30);
    expect(snapshots()).toBe(1);
    expect(published[0]!.roomId).toBe('r');
    publisher.close();
  });

  it('forgets the size of a room nobody follows any more: watched again, it waits the base delay', async () => {
    const presence = createMemoryPresenceStore();
    const broker = createMemoryBroker();
    const published: PresenceView[] = [];
    const unsubscribe = await broker.subscribe(presenceChannel('r'), (view) => void published.push(view as PresenceView));
    const publisher = publishPresenceChanges(presence, broker, createLogger({ level: 'silent', nodeId: 't' }), { delayMs: 10, perUserMs: 5, maxMs: 10_000 });
    await Promise.all(Array.from({ length: 100 }, (_, i) => presence.connect('r', { id: `u${i}`, name: `n${i}` }, `c${i}`)));
    await expect.poll(() => published.length).toBe(1);
    // Nobody follows: the next change publishes nothing (and waited 10 + 100 × 5 ms).
    await unsubscribe();
    await presence.disconnect('r', 'u0', 'c0');
    await sleep(600);
    // Followed again: a change is published after the base 10 ms, not another 500.
    await broker.subscribe(presenceChannel('r'), (view) => void published.push(view as PresenceView));
    const changedAt = performance.now();
    await presence.disconnect('r', 'u1', 'c1');
    await expect.poll(() => published.length, { timeout: 2_000 }).toBe(2);
    expect(performance.now() - changedAt).toBeLessThan(300);
    publisher.close();
  });

  it('close cancels what was gathered', async () => {
    const { presence, published, publisher } = await setup(20);
    await presence.connect('r', { id: 'a', name: 'A' }, 'c1');
    publisher.close();
    await sleep(60);
    expect(published).toEqual([]);
  });
});
