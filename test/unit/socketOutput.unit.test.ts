import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { boundSocketOutput } from '../../src/server/socketOutput.js';

/** What boundSocketOutput touches of a ws socket: send, close, readyState, bufferedAmount. */
function fakeSocket() {
  const sent: string[] = [];
  const closes: Array<[number, string]> = [];
  const socket = {
    OPEN: 1,
    readyState: 1,
    bufferedAmount: 0,
    send(data: string, cb?: (error?: Error) => void) {
      sent.push(data);
      socket.bufferedAmount += data.length;
      cb?.();
    },
    close(code: number, reason: string) {
      closes.push([code, reason]);
      socket.readyState = 2;
    },
  };
  return { socket, sent, closes };
}

describe('boundSocketOutput: every write counts against the socket buffer limit', () => {
  it('writes while the unsent data is within the limit, then closes with 4008 once and drops the rest', () => {
    const { socket, sent, closes } = fakeSocket();
    let slow = 0;
    boundSocketOutput(socket as unknown as WebSocket, 100, () => slow++);
    const ws = socket as unknown as WebSocket;
    ws.send('a'.repeat(60));
    ws.send('b'.repeat(60)); // 60 unsent: still within the limit, so this one goes too
    const dropped: unknown[] = [];
    ws.send('c', (error?: Error) => dropped.push(error));
    ws.send('d', {}, (error?: Error) => dropped.push(error));
    expect(sent.map((s) => s[0])).toEqual(['a', 'b']);
    expect(closes).toEqual([[4008, 'slow consumer: reconnect and resume with afterSeq']]);
    expect(slow).toBe(1);
    // Whoever waited for a dropped write is not left waiting.
    expect(dropped).toEqual([undefined, undefined]);
  });

  it('a client that reads keeps its socket', () => {
    const { socket, sent, closes } = fakeSocket();
    boundSocketOutput(socket as unknown as WebSocket, 100, () => {});
    const ws = socket as unknown as WebSocket;
    for (let i = 0; i < 50; i++) {
      ws.send('x'.repeat(80));
      socket.bufferedAmount = 0; // flushed
    }
    expect(sent).toHaveLength(50);
    expect(closes).toEqual([]);
  });
});
