import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noticeChannel } from '../../../src/broker/broker.js';
import type { UserRef } from '../../../src/domain/events.js';
import { ada, bob, chatHarness, expectRejects, type ChatHarness } from './harness.js';
import { refusalHold } from '../../../src/chat/commands/joinRoom.js';

let h: ChatHarness;
beforeEach(async () => (h = await chatHarness()));
afterEach(() => h.close());

describe('joinRoom', () => {
  it('joins a public room without a password, and answers with the room after the join', async () => {
    const { id } = await h.chat.createRoom(ada, 'lobby');
    const room = await h.chat.joinRoom(bob, id);
    expect(room.memberCount).toBe(2);
    expect(await h.logTypes(id)).toEqual(['RoomCreated', 'MemberJoined', 'MemberJoined']);
  });

  it('joins a private room only with its password', async () => {
    const { id } = await h.chat.createRoom(ada, 'secret', 'hunter22');
    await expectRejects(() => h.chat.joinRoom(bob, id), 'forbidden', 'wrong password for this private room');
    await expectRejects(() => h.chat.joinRoom(bob, id, 'hunter33'), 'forbidden', 'wrong password for this private room');
    expect((await h.chat.joinRoom(bob, id, 'hunter22')).memberCount).toBe(2);
  });

  it('a second join appends nothing (a member needs no password again)', async () => {
    const { id } = await h.chat.createRoom(ada, 'secret', 'hunter22');
    const before = await h.logTypes(id);
    expect((await h.chat.joinRoom(ada, id)).memberCount).toBe(1);
    expect(await h.logTypes(id)).toEqual(before);
  });

  it('needs a session, a valid id, and a room that exists', async () => {
    await expectRejects(() => h.chat.joinRoom(null, 'r1'), 'unauthenticated');
    await expectRejects(() => h.chat.joinRoom(bob, ''), 'invalid_input', 'roomId is not a valid id');
    await expectRejects(() => h.chat.joinRoom(bob, 'nope'), 'not_found', 'room not found');
  });
});

describe('joinRoom: password guessing', () => {
  const eve: UserRef = { id: 'u-eve', name: 'Eve' };

  it('checks the password before the join is queued: the room’s other commands do not wait for it', async () => {
    await h.close();
    h = await chatHarness();
    const { id } = await h.chat.createRoom(ada, 'vault', 'password');
    const real = h.ports.passwords;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    h.ports.passwords = { ...real, verify: async (password, stored, before) => (await held, real.verify(password, stored, before)) };
    const join = h.chat.joinRoom(bob, id, 'password');
    // While bob's check is held, ada's send to the same room goes through.
    expect((await h.chat.sendMessage(ada, id, 'not held up', 'c1')).body).toBe('not held up');
    release();
    expect((await join).memberCount).toBe(2);
  });

  it('wrong guesses: free ones, then RATE_LIMITED with a growing wait and a notice; refused guesses run no check', async () => {
    await h.close();
    h = await chatHarness({ passwordFailures: 2 });
    const { id } = await h.chat.createRoom(ada, 'vault', 'password');
    let checks = 0;
    const real = h.ports.passwords;
    h.ports.passwords = { ...real, verify: (...args) => (checks++, real.verify(...args)) };
    const notices = await h.listen(noticeChannel(eve.id));
    for (const guess of ['guess one', 'guess two', 'guess three']) await expectRejects(() => h.chat.joinRoom(eve, id, guess), 'forbidden', 'wrong password for this private room');
    expect(checks).toBe(3);
    const refused = await h.chat.joinRoom(eve, id, 'password').catch((e: unknown) => e);
    expect(refused).toMatchObject({ kind: 'rate_limited', message: expect.stringMatching(/^too many wrong passwords; retry in \d+ s$/) });
    expect((refused as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    expect((refused as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(1_000);
    expect(checks).toBe(3);
    expect(notices).toEqual([{ kind: 'RATE_LIMITED', message: expect.stringMatching(/^You are trying passwords too fast/), until: expect.any(Number) }]);
    // The room's members are untouched, and so is the log.
    expect(await h.logTypes(id)).toEqual(['RoomCreated', 'MemberJoined']);
  });

  it('counted per room too: another user guessing the same room waits once the room has had its free failures', async () => {
    await h.close();
    h = await chatHarness({ passwordFailures: 2 });
    const { id } = await h.chat.createRoom(ada, 'vault', 'password');
    await expectRejects(() => h.chat.joinRoom(eve, id, 'guess one'), 'forbidden');
    await expectRejects(() => h.chat.joinRoom(bob, id, 'guess two'), 'forbidden');
    await expectRejects(() => h.chat.joinRoom({ id: 'u-mallory', name: 'Mallory' }, id, 'guess three'), 'forbidden');
    await expectRejects(() => h.chat.joinRoom({ id: 'u-trent', name: 'Trent' }, id, 'guess four'), 'rate_limited');
  });

  it('counted per client address: guesses at different rooms from one address add up', async () => {
    await h.close();
    h = await chatHarness({ passwordFailures: 2 });
    const rooms: string[] = [];
    for (let i = 0; i < 4; i++) rooms.push((await h.chat.createRoom(ada, `vault ${i}`, 'password')).id);
    for (let i = 0; i < 3; i++) await expectRejects(() => h.chat.joinRoom(eve, rooms[i]!, 'guess', '203.0.113.9'), 'forbidden');
    await expectRejects(() => h.chat.joinRoom(eve, rooms[3]!, 'guess', '203.0.113.9'), 'rate_limited');
    // Another address is not affected.
    await expectRejects(() => h.chat.joinRoom(bob, rooms[3]!, 'guess', '203.0.113.10'), 'forbidden');
  });

  it('no password at all is how a client learns the room is private: refused, never counted, no check run', async () => {
    await h.close();
    h = await chatHarness({ passwordFailures: 0 });
    const { id } = await h.chat.createRoom(ada, 'vault', 'password');
    for (let i = 0; i < 5; i++) await expectRejects(() => h.chat.joinRoom(bob, id), 'forbidden', 'wrong password for this private room');
    expect((await h.chat.joinRoom(bob, id, 'password')).memberCount).toBe(2);
  });

  it('too many checks at once: the ones past the queue are refused as RATE_LIMITED, not queued without end', async () => {
    await h.close();
    h = await chatHarness();
    const { id } = await h.chat.createRoom(ada, 'vault', 'password');
    // The harness allows 2 checks at once and 10 waiting.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => h.chat.joinRoom({ id: `u-${i}`, name: `guesser ${i}` }, id, `guess ${i}`).catch((e: { kind: string }) => e.kind)),
    );
    expect(results.filter((kind) => kind === 'forbidden').length).toBe(12);
    expect(results.filter((kind) => kind === 'rate_limited').length).toBe(8);
  });
});

describe('refusalHold: how long a refused guess waits before its answer', () => {
  it('never past its own wait nor the configured hold; nothing when holding is off', () => {
    expect(refusalHold(500, 3_000, () => 1)).toBe(500);
    expect(refusalHold(10_000, 3_000, () => 1)).toBe(3_000);
    expect(refusalHold(Number.POSITIVE_INFINITY, 3_000, () => 1)).toBe(3_000);
    expect(refusalHold(10_000, 0, () => 1)).toBe(0);
  });

  it('spread over 75–100 % of that, so guessers refused together do not come back together', () => {
    expect(refusalHold(10_000, 3_000, () => 0)).toBe(2_250);
    const holds = new Set(Array.from({ length: 100 }, () => refusalHold(10_000, 3_000)));
    expect(holds.size).toBeGreaterThan(50);
    for (const hold of holds) expect(hold).toBeGreaterThanOrEqual(2_250);
  });
});
