import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';

export interface BrokerFixture {
  /** Two brokers that talk to each other (two nodes); the memory adapter returns the same one twice. */
  a: Broker;
  b: Broker;
  cleanup: () => Promise<void>;
}

const until = async (condition: () => boolean, timeoutMs = 3_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** The broker port's contract: what RoomHub relies on, checked against every adapter. */
export function brokerContract(name: string, create: () => Promise<BrokerFixture>): void {
  describe(`Broker contract: ${name}`, () => {
    let fixture: BrokerFixture | null = null;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = null;
    });

    it('delivers a message published right after subscribe resolves (subscribe means active)', async () => {
      fixture = await create();
      const got: unknown[] = [];
      await fixture.b.subscribe('room.x', (m) => got.push(m));
      await fixture.a.publish('room.x', { seq: 1, data: { text: 'héllo' } });
      await until(() => got.length === 1);
      expect(got).toEqual([{ seq: 1, data: { text: 'héllo' } }]);
    });

    it('says whether anyone follows a channel: after a subscribe on another node, and no longer once it ends', async () => {
      fixture = await create();
      expect(await fixture.a.followed('presence.f')).toBe(false);
      const unsubscribe = await fixture.b.subscribe('presence.f', () => {});
      expect(await fixture.a.followed('presence.f')).toBe(true);
      expect(await fixture.a.followed('presence.other')).toBe(false);
      await unsubscribe();
      await expect.poll(() => fixture!.a.followed('presence.f')).toBe(false);
    });

    it('keeps one publisher’s order on a channel', async () => {
      fixture = await create();
      const got: number[] = [];
      await fixture.b.subscribe('room.order', (m) => got.push((m as { seq: number }).seq));
      for (let seq = 1; seq <= 200; seq++) void fixture.a.publish('room.order', { seq });
      await until(() => got.length === 200);
      expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    });

    it('delivers to every subscriber of a channel and to no other channel', async () => {
      fixture = await create();
      const one: unknown[] = [];
      const two: unknown[] = [];
      const other: unknown[] = [];
      await fixture.b.subscribe('room.1', (m) => one.push(m));
      await fixture.b.subscribe('room.1', (m) => two.push(m));
      await fixture.b.subscribe('room.2', (m) => other.push(m));
      await fixture.a.publish('room.1', 'x');
      await until(() => one.length === 1 && two.length === 1);
      await new Promise((r) => setTimeout(r, 50));
      expect(other).toEqual([]);
    });

    it('stops delivering after unsubscribe, leaving other subscriptions of the channel alone', async () => {
      fixture = await create();
      const stopped: unknown[] = [];
      const kept: unknown[] = [];
      const unsubscribe = await fixture.b.subscribe('room.u', (m) => stopped.push(m));
      await fixture.b.subscribe('room.u', (m) => kept.push(m));
      await unsubscribe();
      await unsubscribe(); // twice is harmless
      await fixture.a.publish('room.u', 1);
      await until(() => kept.length === 1);
      await new Promise((r) => setTimeout(r, 50));
      expect(stopped).toEqual([]);
    });

    it('answers ping', async () => {
      fixture = await create();
      expect(await fixture.a.ping()).toBe(true);
    });
  });
}
