import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { roomStream } from '../../../src/domain/events.js';
import { ada, chatHarness, expectRejects, type ChatHarness } from './harness.js';

let h: ChatHarness;
beforeEach(async () => (h = await chatHarness()));
afterEach(() => h.close());

describe('createRoom', () => {
  it('creates a public room with its creator as the one member, readable at once', async () => {
    const room = await h.chat.createRoom(ada, '  lobby ');
    expect(room).toMatchObject({ name: 'lobby', private: false, memberCount: 1, headSeq: 2 });
    // The command waited for the read models: a query right after sees the room.
    expect(await h.readModels.room(room.id)).toEqual(room);
    // The command, then its read back, waited for its own last event (position 2) and nothing else.
    expect(new Set(h.waited)).toEqual(new Set([2]));
    expect(await h.logTypes(room.id)).toEqual(['RoomCreated', 'MemberJoined']);
  });

  it('with a password: a private room that keeps only a hash of it', async () => {
    const room = await h.chat.createRoom(ada, 'secret', 'hunter22');
    expect(room.private).toBe(true);
    const [created] = await h.store.readStream(roomStream(room.id), { limit: 1 });
    const { passwordHash } = created!.data as { passwordHash: string };
    expect(passwordHash).toMatch(/^scrypt\$/);
    expect(passwordHash).not.toContain('hunter22');
  });

  it('counts its events; a broker that is down does not fail it (publishes are fire-and-forget)', async () => {
    h.broken.broker = true;
    const room = await h.chat.createRoom(ada, 'lobby');
    expect(room.memberCount).toBe(1);
    expect(await h.count(h.metrics.eventsAppended, { type: 'RoomCreated' })).toBe(1);
    expect(await h.count(h.metrics.eventsAppended, { type: 'MemberJoined' })).toBe(1);
    expect(await h.count(h.metrics.publishFailures)).toBe(2);
    expect(h.warnings.map(([, message]) => message)).toContain('publish failed; subscribers will repair from the log');
  });

  it('needs a session, a name, and a non-empty password if any', async () => {
    await expectRejects(() => h.chat.createRoom(null, 'lobby'), 'unauthenticated');
    await expectRejects(() => h.chat.createRoom(ada, ' '), 'invalid_input', 'room name must not be empty');
    await expectRejects(() => h.chat.createRoom(ada, 'lobby', ''), 'invalid_input', /password must not be empty/);
    await expectRejects(() => h.chat.createRoom(ada, 'lobby', 'x'.repeat(201)), 'invalid_input', 'password is longer than 200 characters');
  });
});
