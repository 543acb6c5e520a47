import { sleep } from './backoff.js';
import type { Connection } from './connection.js';
import { ChatClientError } from './errors.js';
import { newClientMessageId } from './ids.js';
import * as ops from './operations.js';
import { request } from './request.js';
import type { Message } from './types.js';

export interface SendRetryOptions {
  /**
   * How many times a send refused with RATE_LIMITED is tried again by itself, each after the
   * `retryAfterMs` the server gave (default 3; 0: hand the refusal to the caller at once).
   */
  rateLimitRetries?: number;
  /** A refusal asking for a longer wait than this is handed to the caller (default 60 s). */
  maxRetryAfterMs?: number;
}

export const DEFAULT_RATE_LIMIT_RETRIES = 3;
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

/**
 * Sends a message and resolves once the server has it durably: retries across reconnects with the
 * same clientMessageId until acknowledged, so it is stored exactly once (ChatClient.send).
 */
export async function sendMessage(
  connection: Connection,
  roomId: string,
  body: string,
  sendOptions: { clientMessageId?: string } & SendRetryOptions = {},
): Promise<Message> {
  const clientMessageId = sendOptions.clientMessageId ?? newClientMessageId();
  const release = connection.hold();
  try {
    return await retrySend(
      async () => (await request(connection, 'mutation', ops.SEND_MESSAGE, { roomId, body, clientMessageId }, { retry: false })).sendMessage,
      {
        waitForReconnect: () =>
          connection.waitToRetry().catch(() => {
            throw connection.finalError ?? new ChatClientError('CLOSED', 'the client is closed');
          }),
        sleep,
        ...sendOptions,
      },
    );
  } finally {
    release();
  }
}

export interface RetrySendDeps extends SendRetryOptions {
  /** Resolves once the connection is back (rejects when the client closed). */
  waitForReconnect: () => Promise<void>;
  sleep: (ms: number) => Promise<void>;
}

/**
 * The send's retry rules, apart from the connection so they can be tested alone. Every attempt
 * carries the same clientMessageId, so any number of them stores the message once:
 *  - NETWORK: the attempt may or may not have landed; wait for the reconnect and send again
 *    (unbounded: the message is the user's, and the client gives up only when it is closed).
 *  - RATE_LIMITED: wait the server's `retryAfterMs` and send again, at most `rateLimitRetries`
 *    times for refusals of the first attempt (a user typing fast should not have to press Retry);
 *    a wait longer than `maxRetryAfterMs` is handed to the caller at once. After an attempt that
 *    may have landed (a NETWORK failure), RATE_LIMITED is no answer at all: the message may be
 *    stored already (a resend of it is then answered with the original), so it waits and asks
 *    again until it learns (as before the bound existed).
 *  - anything else is final.
 */
export async function retrySend<T>(attempt: () => Promise<T>, deps: RetrySendDeps): Promise<T> {
  const maxRateLimited = deps.rateLimitRetries ?? DEFAULT_RATE_LIMIT_RETRIES;
  const maxWait = deps.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  let rateLimited = 0;
  let mayHaveLanded = false;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ChatClientError)) throw error;
      if (error.code === 'NETWORK') {
        mayHaveLanded = true;
        await deps.waitForReconnect();
        continue;
      }
      if (error.code === 'RATE_LIMITED') {
        const wait = error.retryAfterMs ?? 1_000;
        if (mayHaveLanded || (rateLimited < maxRateLimited && wait <= maxWait)) {
          rateLimited++;
          await deps.sleep(wait);
          continue;
        }
      }
      throw error;
    }
  }
}
