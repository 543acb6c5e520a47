import type { WebSocketServer } from 'ws';
import { CloseCodes } from '../../schema/codes.js';

/** Message types only the server sends; graphql-ws reads them from a client as a crash. */
const SERVER_ONLY = new Set(['connection_ack', 'next', 'error']);

/**
 * A client that sends a message only servers send (`next`, `error`, `connection_ack`) broke the
 * protocol: that is 4400 (malformed message), as for any other frame graphql-ws cannot read. Left
 * to graphql-ws, it threw "Unexpected message of type …", printed the stack to stderr, and closed
 * the socket with 4500 (internal server error) and its own message as the reason.
 *
 * Must be registered on `wss` before graphql-ws's useServer: it wraps the message listener that
 * graphql-ws adds to each socket, so such a frame never reaches it.
 */
export function refuseServerOnlyFrames(wss: WebSocketServer): void {
  wss.on('connection', (socket) => {
    const on = socket.on.bind(socket) as (event: string, listener: (...args: unknown[]) => void) => unknown;
    socket.on = ((event: string, listener: (...args: unknown[]) => void) => {
      if (event !== 'message') return on(event, listener);
      return on('message', (data: unknown, ...rest: unknown[]) => {
        if (isServerOnly(data)) {
          socket.close(CloseCodes.BadRequest.code, 'Invalid message received');
          return;
        }
        listener(data, ...rest);
      });
    }) as typeof socket.on;
  });
}

function isServerOnly(data: unknown): boolean {
  // A cheap look first, at the bytes as they came (no string made of them): most frames are
  // subscribes and completes, and need no second parse.
  const raw = Buffer.isBuffer(data) ? data : String(data);
  if (!raw.includes('connection_ack') && !raw.includes('"next"') && !raw.includes('"error"')) return false;
  try {
    const message = JSON.parse(String(data)) as { type?: unknown };
    return typeof message === 'object' && message !== null && SERVER_ONLY.has(message.type as string);
  } catch {
    return false;
  }
}
