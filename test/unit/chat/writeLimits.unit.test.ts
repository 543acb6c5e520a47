import { afterEach, describe, expect, it } from 'vitest';
import { noticeChannel } from '../../../src/broker/broker.js';
import type { WriteKind } from '../../../src/limits/writeLimits.js';
import { ada, bob, chatHarness, publicRoom, type ChatHarness } from './harness.js';

let h: ChatHarness;
afterEach(() => h.close());

const carol = { id: 'u-carol', name: 'Carol' };
const budget = (limit: number) => ({ limit, windowMs: 60_000 });

/** The first error of `runs` in order (they run one after another), or null. */
async function firstRefusal(runs: Array<() => Promise<unknown>>): Promise<{ index: number; error: { kind: string; message: string; retryAfterMs: number } } | null> {
  for (const [index, run] of runs.entries()) {
    const error = await run().then(
      () => null,
      (e: unknown) => e,
    );
    if (error) return { index, error: error as { kind: string; message: string; retryAfterMs: number } };
  }
  return null;
}

describe('every write is limited per user, each kind by its own budget', () => {
  it('edits: over the budget, RATE_LIMITED with retryAfterMs, a notice, counted by kind; nothing appended', async () => {
    h = await chatHarness({ budgets: { edit: budget(2) } });
    const roomId = await publicRoom(h);
    const message = await h.chat.sendMessage(bob, roomId, 'v0', 'c0');
    const notices = await h.listen(noticeChannel(bob.id));
    const refused = await firstRefusal([1, 2, 3].map((i) => () => h.chat.editMessage(bob, message.id, `v${i}`)));
    expect(refused?.index).toBe(2);
    expect(refused?.error).toMatchObject({ kind: 'rate_limited', message: expect.stringMatching(/^too many edits; retry in \d+ s$/) });
    expect(refused?.error.retryAfterMs).toBeGreaterThan(0);
    expect(notices).toEqual([{ kind: 'RATE_LIMITED', message: expect.stringMatching(/^You are editing too fast; wait \d+ s\.$/), until: expect.any(Number) }]);
    expect(await h.count(h.metrics.rateLimited, { kind: 'edit' })).toBe(1);
    expect((await h.logTypes(roomId)).filter((t) => t === 'MessageEdited')).toHaveLength(2);
    // Other users, and other kinds of write, are not affected.
    const own = await h.chat.sendMessage(ada, roomId, 'mine', 'a1');
    expect((await h.chat.editMessage(ada, own.id, 'mine, edited')).body).toBe('mine, edited');
    expect((await h.chat.deleteMessage(bob, message.id)).deleted).toBe(true);
  });

  it.each<[WriteKind, string, (h: ChatHarness, roomId: string, i: number) => Promise<unknown>]>([
    ['delete', 'deletes', async (h, roomId, i) => h.chat.deleteMessage(bob, (await h.chat.sendMessage(bob, roomId, `m${i}`, `d${i}`)).id)],
    ['membership', 'joins and leaves', (h, roomId, i) => (i % 2 ? h.chat.leaveRoom(carol, roomId) : h.chat.joinRoom(carol, roomId))],
    ['createRoom', 'new rooms', (h, _roomId, i) => h.chat.createRoom(bob, `room ${i}`)],
    ['typing', 'typing signals', (h, roomId, i) => h.chat.setTyping(bob, roomId, i % 2 === 0)],
  ])('%s: limited after its budget', async (kind, many, write) => {
    // The send budget stays open, so the deletes' own posts are not what is refused.
    h = await chatHarness({ budgets: { [kind]: budget(3) } });
    const roomId = await publicRoom(h);
    const refused = await firstRefusal([0, 1, 2, 3, 4].map((i) => () => write(h, roomId, i)));
    expect(refused?.index).toBe(3);
    expect(refused?.error).toMatchObject({ kind: 'rate_limited', message: expect.stringContaining(`too many ${many}`) });
  });

  it('a join or leave that changes nothing is not counted', async () => {
    h = await chatHarness({ budgets: { membership: budget(1) } });
    const roomId = await publicRoom(h, { withBob: false });
    for (let i = 0; i < 5; i++) await h.chat.joinRoom(ada, roomId); // ada is its creator: already in
    for (let i = 0; i < 5; i++) await h.chat.leaveRoom(bob, roomId); // bob never joined
    expect((await h.chat.joinRoom(bob, roomId)).memberCount).toBe(2);
  });

  it('renames have a budget of their own: one rename, whatever the number of rooms it writes into, counts once, and joins are not charged', async () => {
    h = await chatHarness({ budgets: { rename: budget(2), membership: budget(3) } });
    const rooms = [await publicRoom(h), (await h.chat.createRoom(ada, 'second')).id, (await h.chat.createRoom(ada, 'third')).id];
    for (const roomId of rooms.slice(1)) await h.chat.joinRoom(bob, roomId);
    await h.chat.renameSelf(bob, 'Robert');
    await h.chat.renameSelf(bob, 'Bobby');
    await expect(h.chat.renameSelf(bob, 'Rob')).rejects.toMatchObject({ kind: 'rate_limited', message: expect.stringMatching(/^too many renames; retry in \d+ s$/) });
    for (const roomId of rooms) expect((await h.logTypes(roomId)).filter((t) => t === 'MemberRenamed')).toHaveLength(2);
    // The join budget (3) is whole: the two renames did not touch it.
    await h.chat.joinRoom(carol, rooms[0]!);
    await h.chat.leaveRoom(carol, rooms[0]!);
    await h.chat.joinRoom(carol, rooms[1]!);
  });

  it('a rename waits for the read models once, after writing into every room', async () => {
    h = await chatHarness();
    const rooms = [await publicRoom(h), (await h.chat.createRoom(ada, 'second')).id, (await h.chat.createRoom(ada, 'third')).id];
    for (const roomId of rooms.slice(1)) await h.chat.joinRoom(bob, roomId);
    h.waited.length = 0;
    await h.chat.renameSelf(bob, 'Robert');
    const renames = await Promise.all(rooms.map(async (roomId) => (await h.store.readStream(`room-${roomId}`)).at(-1)!.position));
    // One wait for the read-your-writes of the room list, one for the last rename: not one per room.
    expect(h.waited.at(-1)).toBe(Math.max(...renames));
    expect(h.waited.length).toBeLessThanOrEqual(2);
  });

  it('sessions and rooms per client address: across users, and only when the address is known', async () => {
    h = await chatHarness({ budgets: { sessionPerAddress: budget(2), roomPerAddress: budget(2) } });
    await h.chat.createSession('one', '203.0.113.1');
    await h.chat.createSession('two', '203.0.113.1');
    await expect(h.chat.createSession('three', '203.0.113.1')).rejects.toMatchObject({ kind: 'rate_limited' });
    // IPv6 clients count by their /64.
    await h.chat.createSession('v6 a', '2001:db8::1');
    await h.chat.createSession('v6 b', '2001:db8::2');
    await expect(h.chat.createSession('v6 c', '2001:db8::ffff')).rejects.toMatchObject({ kind: 'rate_limited' });
    expect((await h.chat.createSession('elsewhere', '203.0.113.2')).user.name).toBe('elsewhere');
    expect((await h.chat.createSession('unknown address')).user.name).toBe('unknown address');

    await h.chat.createRoom(ada, 'a', null, '198.51.100.1');
    await h.chat.createRoom(bob, 'b', null, '198.51.100.1');
    await expect(h.chat.createRoom(bob, 'c', null, '198.51.100.1')).rejects.toMatchObject({ kind: 'rate_limited' });
  });

  it('a refused write for a bad input costs nothing: validation comes first', async () => {
    h = await chatHarness({ budgets: { edit: budget(1) } });
    const roomId = await publicRoom(h);
    const message = await h.chat.sendMessage(bob, roomId, 'v0', 'c0');
    await expect(h.chat.editMessage(bob, message.id, '')).rejects.toMatchObject({ kind: 'invalid_input' });
    expect((await h.chat.editMessage(bob, message.id, 'v1')).body).toBe('v1');
  });
});
