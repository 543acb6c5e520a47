import type { WebSocket } from 'ws';
import { CloseCodes } from '../../schema/codes.js';

/**
 * Every byte the node writes to a WebSocket counts against MAX_SOCKET_BUFFER_BYTES, not only the
 * roomEvents fast path (rawSocketSink.ts): query and mutation answers, presence and notices, and
 * the protocol's own messages all pass through `socket.send`, so the check sits there.
 *
 * Before each write: if the socket already holds more unsent data than the limit, the client is
 * not reading, and the socket is closed with 4008 (reconnect and resume with afterSeq) instead of
 * buffering more; the write is dropped. A socket therefore never holds much more than the limit
 * plus one message (itself bounded by MAX_RESPONSE_BYTES). Without this, a paused client with
 * 100 pipelined roomEvents queries took a node from 239 MB to over 1 GB and was never closed.
 */
export function boundSocketOutput(socket: WebSocket, maxBufferedBytes: number, onSlow: () => void): void {
  const send = socket.send.bind(socket) as (...args: unknown[]) => void;
  socket.send = ((data: unknown, ...rest: unknown[]) => {
    if (socket.bufferedAmount > maxBufferedBytes) {
      if (socket.readyState === socket.OPEN) {
        onSlow();
        socket.close(CloseCodes.SlowConsumer.code, CloseCodes.SlowConsumer.meaning);
      }
      // Dropped, as a send on a closing socket is: whoever waits for it need not wait longer.
      const callback = rest.find((arg) => typeof arg === 'function') as ((error?: Error) => void) | undefined;
      callback?.();
      return;
    }
    send(data, ...rest);
  }) as WebSocket['send'];
}
