/** The send's retry rules (client/src/send.ts retrySend), without a server: a scripted attempt and a recorded sleep. */
import { describe, expect, it } from 'vitest';
import { ChatClientError } from '../../client/src/errors.js';
import { retrySend, type RetrySendDeps } from '../../client/src/send.js';

/** Each call answers with the next outcome: an Error is thrown, anything else resolved. */
function scripted(outcomes: Array<string | Error>) {
  let calls = 0;
  const attempt = async () => {
    const outcome = outcomes[calls++];
    if (outcome === undefined) throw new Error('attempted more often than scripted');
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  return { attempt, calls: () => calls };
}

function deps(extra: Partial<RetrySendDeps> = {}) {
  const slept: number[] = [];
  let reconnects = 0;
  const d: RetrySendDeps = {
    sleep: async (ms) => void slept.push(ms),
    waitForReconnect: async () => void reconnects++,
    ...extra,
  };
  return { d, slept, reconnects: () => reconnects };
}

const limited = (ms?: number) => new ChatClientError('RATE_LIMITED', 'too fast', { retryAfterMs: ms });

describe('a rate-limited send', () => {
  it('is sent again by itself after the retryAfterMs the server gave', async () => {
    const script = scripted([limited(500), limited(1_200), 'stored']);
    const { d, slept } = deps();
    await expect(retrySend(script.attempt, d)).resolves.toBe('stored');
    expect(slept).toEqual([500, 1_200]);
    expect(script.calls()).toBe(3);
  });

  it('gives up after the bounded number of retries, with the refusal and its retryAfterMs', async () => {
    const script = scripted([limited(100), limited(100), limited(100), limited(700)]);
    const { d, slept } = deps();
    const error = await retrySend(script.attempt, d).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatClientError);
    expect((error as ChatClientError).code).toBe('RATE_LIMITED');
    expect((error as ChatClientError).retryAfterMs).toBe(700);
    expect(slept).toEqual([100, 100, 100]);
    expect(script.calls()).toBe(4);
  });

  it('honours rateLimitRetries (0: the caller gets the first refusal) and waits 1 s without a retryAfterMs', async () => {
    const none = scripted([limited(100)]);
    await expect(retrySend(none.attempt, deps({ rateLimitRetries: 0 }).d)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(none.calls()).toBe(1);
    const noHint = scripted([limited(undefined), 'ok']);
    const { d, slept } = deps();
    await expect(retrySend(noHint.attempt, d)).resolves.toBe('ok');
    expect(slept).toEqual([1_000]);
  });

  it('hands a wait longer than maxRetryAfterMs to the caller at once', async () => {
    const script = scripted([limited(120_000)]);
    const { d, slept } = deps();
    await expect(retrySend(script.attempt, d)).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 120_000 });
    expect(slept).toEqual([]);
  });

  it('after a lost connection keeps asking until it learns the outcome (the message may be stored)', async () => {
    const network = new ChatClientError('NETWORK', 'gone');
    const script = scripted([network, limited(10), limited(10), limited(10), limited(10), 'original']);
    const { d, slept, reconnects } = deps();
    await expect(retrySend(script.attempt, d)).resolves.toBe('original');
    expect(reconnects()).toBe(1);
    expect(slept).toEqual([10, 10, 10, 10]);
  });

  it('does not retry final errors', async () => {
    const script = scripted([new ChatClientError('FORBIDDEN', 'join first')]);
    await expect(retrySend(script.attempt, deps().d)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(script.calls()).toBe(1);
  });
});
