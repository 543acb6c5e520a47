/**
 * Issue 11, finding 3: a private room's password could be guessed without limit (100 wrong guesses
 * in 5.9 s), and guessing stalled the room: during 150 concurrent wrong joins the owner's send took
 * 6.1 s instead of 5 ms, because each scrypt ran inside the room's command queue. Now the password
 * is checked before the join is queued, scrypt work is bounded, failures get growing delays per
 * (user, room), per room and per address, and passwords under 8 characters are refused.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { percentile } from '../support/cluster.js';
import { createRoom, createUser, errorCodes, http, sendMessage, type UserSession } from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import { CREATE_ROOM, JOIN, outcome, post, tally } from './requests.js';

afterAll(stopAllInProcessNodes);

const PASSWORD = 'correct horse battery';

describe('wrong passwords', () => {
  it('one user guessing: a few free failures, then RATE_LIMITED with growing retryAfterMs; the right password still works after the wait', async () => {
    // Refusals answered at once here, so the test reads each growing retryAfterMs as it is.
    const node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '20', PASSWORD_FAILURES_PER_USER: '3', TRUST_PROXY: 'none', PASSWORD_REFUSAL_HOLD_MS: '0' } });
    const owner = await createUser(node.url, 'owner');
    const room = await createRoom(node.url, owner.token, 'vault', PASSWORD);
    const guesser = await createUser(node.url, 'guesser');
    const results = [];
    for (let i = 0; i < 6; i++) {
      const result = outcome(await post(node.url, JOIN, { roomId: room.id, password: `guess number ${i}` }, { token: guesser.token }));
      results.push(result);
      // Wait out each delay, so every guess is a real failure and the delays can be seen to grow.
      if (result.retryAfterMs) await new Promise((resolve) => setTimeout(resolve, result.retryAfterMs));
    }
    expect(results.slice(0, 3).map((r) => r.code)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
    // The fourth failure starts the delays: refused until it passes, each longer than the last.
    const limited = [];
    for (let i = 0; i < 3; i++) {
      const refused = outcome(await post(node.url, JOIN, { roomId: room.id, password: PASSWORD }, { token: guesser.token }));
      if (refused.code === '') break;
      expect(refused.code).toBe('RATE_LIMITED');
      limited.push(refused.retryAfterMs!);
      await new Promise((resolve) => setTimeout(resolve, refused.retryAfterMs! + 50));
    }
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]).toBeGreaterThan(results.find((r) => r.retryAfterMs)!.retryAfterMs!);
    // After the wait, the right password lets the user in: the limit delays, it does not lock out.
    const joined = await post<{ joinRoom: { memberCount: number } }>(node.url, JOIN, { roomId: room.id, password: PASSWORD }, { token: guesser.token });
    expect(joined.errors).toBeUndefined();
    expect(joined.data!.joinRoom.memberCount).toBe(2);
    await node.stop();
  });

  it('100 guesses from many sessions: per room and per address, most are refused without running scrypt', async () => {
    const node = await startInProcessNode({ env: { PASSWORD_FAILURES_PER_ROOM: '10', PASSWORD_FAILURES_PER_ADDRESS: '1000', TRUST_PROXY: 'none', PASSWORD_REFUSAL_HOLD_MS: '0' } });
    const owner = await createUser(node.url, 'owner');
    const room = await createRoom(node.url, owner.token, 'vault', PASSWORD);
    const guessers: UserSession[] = [];
    for (let i = 0; i < 20; i++) guessers.push(await createUser(node.url, `guesser ${i}`));
    const started = Date.now();
    const codes = [];
    for (let i = 0; i < 100; i++) codes.push(outcome(await post(node.url, JOIN, { roomId: room.id, password: `guess ${i}` }, { token: guessers[i % 20]!.token })).code);
    const counts = tally(codes);
    expect(counts.FORBIDDEN).toBeLessThanOrEqual(12);
    expect(counts.RATE_LIMITED).toBeGreaterThanOrEqual(88);
    // Refusals are cheap: the 100 answers come back quickly (no scrypt for a refused guess).
    expect(Date.now() - started).toBeLessThan(10_000);
    await node.stop();
  });

  it('a guess refused for its delay is held before the answer (up to PASSWORD_REFUSAL_HOLD_MS): a guesser cannot spin on refusals', async () => {
    const node = await startInProcessNode({ env: { PASSWORD_FAILURES_PER_USER: '1', TRUST_PROXY: 'none', PASSWORD_REFUSAL_HOLD_MS: '400' } });
    const owner = await createUser(node.url, 'owner');
    const room = await createRoom(node.url, owner.token, 'held vault', PASSWORD);
    const guesser = await createUser(node.url, 'guesser');
    const guess = async () => {
      const started = performance.now();
      const result = outcome(await post(node.url, JOIN, { roomId: room.id, password: 'not it at all' }, { token: guesser.token }));
      return { ...result, ms: performance.now() - started };
    };
    // The free failure, then one that starts the delay (both run scrypt and are answered FORBIDDEN).
    expect((await guess()).code).toBe('FORBIDDEN');
    expect((await guess()).code).toBe('FORBIDDEN');
    const held = await guess();
    expect(held.code).toBe('RATE_LIMITED');
    expect(held.ms).toBeGreaterThanOrEqual(280); // 75–100 % of the 400 ms hold
    expect(held.retryAfterMs).toBeGreaterThan(0);
    await node.stop();
  });

  it('150 concurrent wrong joins do not stall the room: the owner sends at a near-normal pace meanwhile', async () => {
    // RATE_LIMIT_MESSAGES=0 turns the failure limits off too: every guess runs scrypt, the worst
    // case for the room (only the bound on concurrent checks stays).
    const node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
    const owner = await createUser(node.url, 'owner');
    const room = await createRoom(node.url, owner.token, 'busy vault', PASSWORD);
    const guessers: UserSession[] = [];
    for (let i = 0; i < 30; i++) guessers.push(await createUser(node.url, `guesser ${i}`));
    const burst = (password: string | undefined) =>
      Promise.all(Array.from({ length: 150 }, (_, i) => http(node.url, JOIN, { roomId: room.id, password }, guessers[i % 30]!.token).then((r) => errorCodes(r).join())));

    const quiet = await timedSends(node.url, owner.token, room.id, 10);
    // The same burst of 150 joins without a password (refused at once, no scrypt): what 150
    // requests at once cost the owner by themselves, on this machine, now.
    const control = burst(undefined);
    const duringControl = await timedSends(node.url, owner.token, room.id, 10);
    await control;
    const attack = burst('a wrong guess');
    const duringAttack = await timedSends(node.url, owner.token, room.id, 10);
    const codes = tally(await attack);
    // Every guess got an answer: refused as wrong, or turned away as too many checks at once.
    expect((codes.FORBIDDEN ?? 0) + (codes.RATE_LIMITED ?? 0)).toBe(150);
    // Generous bounds (the bench measures the real numbers): before the fix every send waited
    // behind the queued checks, 13 s here.
    expect(percentile(duringAttack, 50)).toBeLessThan(Math.max(500, 10 * percentile(quiet, 50)));
    expect(percentile(duringAttack, 100)).toBeLessThan(2 * percentile(duringControl, 100) + 1_000);
    // And nobody got in.
    const members = await post<{ room: { memberCount: number } }>(node.url, 'query($id: ID!) { room(id: $id) { memberCount } }', { id: room.id }, { token: owner.token });
    expect(members.data!.room.memberCount).toBe(1);
    await node.stop();
  });
});

describe('new room passwords', () => {
  it('under 8 characters: BAD_USER_INPUT; 8 and more: a private room', async () => {
    const node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
    const owner = await createUser(node.url, 'owner');
    const short = await post(node.url, CREATE_ROOM, { name: 'weak', password: 'hunter2' }, { token: owner.token });
    expect(outcome(short).code).toBe('BAD_USER_INPUT');
    expect(short.errors![0]!.message).toMatch(/at least 8 characters/);
    const ok = await post<{ createRoom: { private: boolean } }>(node.url, CREATE_ROOM, { name: 'strong', password: 'hunter22' }, { token: owner.token });
    expect(ok.data!.createRoom.private).toBe(true);
    await node.stop();
  });
});

/** Sends `count` messages one after another; the latency of each, in ms. */
async function timedSends(url: string, token: string, roomId: string, count: number): Promise<number[]> {
  const latencies = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await sendMessage(url, token, roomId, `owner ${i}`, randomUUID());
    latencies.push(performance.now() - started);
  }
  return latencies;
}
