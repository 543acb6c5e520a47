import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { RoomEvent } from '../../src/domain/events.js';
import { RawSocketSink } from '../../src/server/rawSocketSink.js';
import type { OperationGroup } from '../../src/server/sharedExecution.js';

/** The parts of a ws socket the sink touches; no net.Socket beneath, so sendShared uses `send`. */
function fakeSocket(bufferedAmount = 0) {
  const sent: string[] = [];
  const closes: Array<[number, string]> = [];
  const socket = {
    OPEN: 1,
    readyState: 1,
    bufferedAmount,
    send: (data: string) => void sent.push(data),
    close(code: number, reason: string) {
      closes.push([code, reason]);
      socket.readyState = 2;
    },
  };
  return { socket, sent, closes };
}

const group = {
  message: (event: RoomEvent, _id: string, head: Buffer) => ({ head, body: Buffer.from(`{"seq":${event.seq}}}`) }),
  join() {},
  leave() {},
  release() {},
} as unknown as OperationGroup;
const event = (seq: number) => ({ seq, data: { roomId: 'r' } }) as unknown as RoomEvent;
const policy = { maxBufferedBytes: 1_000, resumeBelowBytes: 500, drainTimeoutMs: 100 };

describe('RawSocketSink', () => {
  it('writes each event as the graphql-ws next message of its subscription id', () => {
    const { socket, sent } = fakeSocket();
    let delivered = 0;
    const sink = new RawSocketSink(socket as unknown as WebSocket, 'sub-1', group, policy, () => {}, () => delivered++);
    sink.deliver(event(3));
    expect(sent.map((data) => JSON.parse(data))).toEqual([{ id: 'sub-1', type: 'next', payload: { seq: 3 } }]);
    expect(delivered).toBe(1);
  });

  it('closes a socket holding more unsent data than the limit with 4008, and writes nothing more to it', async () => {
    const { socket, sent, closes } = fakeSocket(1_001);
    let slow = 0;
    const sink = new RawSocketSink(socket as unknown as WebSocket, 's', group, policy, () => slow++, () => {});
    const next = sink.next();
    sink.deliver(event(1));
    sink.deliver(event(2));
    expect(sent).toEqual([]);
    expect(closes).toEqual([[4008, 'slow consumer: reconnect and resume with afterSeq']]);
    expect(slow).toBe(1);
    await expect(next).resolves.toEqual({ value: undefined, done: true });
  });
});
