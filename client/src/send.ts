import { sleep } from './backoff.js';
import type { Connection } from './connection.js';
import { ChatClientError } from './errors.js';
import { newClientMessageId } from './ids.js';
import * as ops from './operations.js';
import { request } from './request.js';
import type { Message } from './types.js';

/**
 * Sends a message and resolves once the server has it durably: retries across reconnects with the
 * same clientMessageId until acknowledged, so it is stored exactly once (ChatClient.send).
 */
export async function sendMessage(
  connection: Connection,
  roomId: string,
  body: string,
  sendOptions: { clientMessageId?: string } = {},
): Promise<Message> {
  const clientMessageId = sendOptions.clientMessageId ?? newClientMessageId();
  const release = connection.hold();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await request(connection, 'mutation', ops.SEND_MESSAGE, { roomId, body, clientMessageId }, { retry: false })).sendMessage;
      } catch (error) {
        if (!(error instanceof ChatClientError)) throw error;
        if (error.code === 'NETWORK') {
          await connection.waitToRetry().catch(() => {
            throw connection.finalError ?? new ChatClientError('CLOSED', 'the client is closed');
          });
          continue;
        }
        // After an attempt that may have landed, RATE_LIMITED is no answer: the message may be
        // stored already (a resend of it is then answered with the original). Wait and ask.
        if (error.code === 'RATE_LIMITED' && attempt > 0) {
          await sleep(error.retryAfterMs ?? 1_000);
          continue;
        }
        throw error;
      }
    }
  } finally {
    release();
  }
}
