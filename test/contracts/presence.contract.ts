import { afterEach, describe, expect, it } from 'vitest';
import type { PresenceStore } from '../../src/presence/presenceStore.js';

export interface PresenceFixture {
  /** A store whose typing flags lapse after 300 ms. */
  store: PresenceStore;
  cleanup: () => Promise<void>;
}

const ada = { id: 'u-ada', name: 'ada' };
const bob = { id: 'u-bob', name: 'bob' };
const until = async (condition: () => Promise<boolean> | boolean, timeoutMs = 3_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** The presence port's contract, checked against every adapter. */
export function presenceContract(name: string, create: () => Promise<PresenceFixture>): void {
  describe(`PresenceStore contract: ${name}`, () => {
    let fixture: PresenceFixture | null = null;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = null;
    });

    it('shows a user online while at least one of their connections follows the room', async () => {
      fixture = await create();
      const { store } = fixture;
      await store.connect('r1', ada, 'c1');
      await store.connect('r1', ada, 'c2');
      await store.connect('r1', bob, 'c3');
      expect(await store.snapshot('r1')).toMatchObject({ roomId: 'r1', count: 2 });
      await store.disconnect('r1', ada.id, 'c1');
      expect((await store.snapshot('r1')).online.map((u) => u.name).sort()).toEqual(['ada', 'bob']);
      await store.disconnect('r1', ada.id, 'c2');
      expect(await store.snapshot('r1')).toEqual({ roomId: 'r1', count: 1, online: [bob], typing: [] });
      expect(await store.snapshot('elsewhere')).toEqual({ roomId: 'elsewhere', count: 0, online: [], typing: [] });
    });

    it('announces changes', async () => {
      fixture = await create();
      const rooms: string[] = [];
      fixture.store.onChange((roomId) => rooms.push(roomId));
      await fixture.store.connect('r2', ada, 'c1');
      await fixture.store.disconnect('r2', ada.id, 'c1');
      expect(rooms.filter((r) => r === 'r2').length).toBeGreaterThanOrEqual(2);
    });

    it('shows typing, clears it on request, and lets it lapse by itself with an announcement', async () => {
      fixture = await create();
      const { store } = fixture;
      await store.connect('r3', ada, 'c1');
      await store.setTyping('r3', ada, true);
      expect((await store.snapshot('r3')).typing).toEqual([ada]);
      await store.setTyping('r3', ada, false);
      expect((await store.snapshot('r3')).typing).toEqual([]);
      const changes: string[] = [];
      store.onChange((roomId) => changes.push(roomId));
      await store.setTyping('r3', ada, true);
      const announced = changes.length;
      await until(async () => (await store.snapshot('r3')).typing.length === 0);
      await until(() => changes.length > announced);
    });

    // The API: typing shows for members who call setTyping and clears itself after a few seconds.
    // Following the room (a presence or events subscription) is not required: a client may send
    // over HTTP and watch the room elsewhere, and every node must show the same thing.
    it('shows typing for a user who calls setTyping without following the room, until it lapses', async () => {
      fixture = await create();
      const { store } = fixture;
      await store.setTyping('r4', bob, true);
      expect(await store.snapshot('r4')).toEqual({ roomId: 'r4', count: 0, online: [], typing: [bob] });
      await until(async () => (await store.snapshot('r4')).typing.length === 0);
      expect(await store.snapshot('r4')).toEqual({ roomId: 'r4', count: 0, online: [], typing: [] });
    });

    it("clears a user's typing at once when their last connection to the room goes", async () => {
      fixture = await create();
      const { store } = fixture;
      await store.connect('r5', ada, 'c1');
      await store.connect('r5', ada, 'c2');
      await store.setTyping('r5', ada, true);
      await store.disconnect('r5', ada.id, 'c1');
      expect((await store.snapshot('r5')).typing, 'still connected once: still typing').toEqual([ada]);
      await store.disconnect('r5', ada.id, 'c2');
      expect(await store.snapshot('r5')).toEqual({ roomId: 'r5', count: 0, online: [], typing: [] });
    });
  });
}
