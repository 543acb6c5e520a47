import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * One WebSocket text message written to many sockets from the same buffers.
 *
 * A roomEvents message is `{"id":<subscription id>,"type":"next","payload":<event>}`. The event
 * part is the same for every subscriber of an operation group (sharedExecution.ts), so it is
 * encoded to UTF-8 once per event (`body`), and each subscription's `{"id":…,"payload":` part
 * once per subscription (`head`). Writing a message is then a frame header and two shared
 * buffers to the socket, corked into one write; and where subscribers of a group share their id
 * too, one whole frame built once per event (`frame`), the same buffer written to each socket. No
 * per-socket string building, UTF-8 encoding or copy of the payload, which is what
 * `socket.send(string)` does for every socket (how engine.io's pre-encoded broadcast and
 * test/bench/bareWsServer.ts reach their figures).
 *
 * This writes beneath ws's public API, to its net.Socket, so it does so only when that is
 * exactly what ws itself would do: an open socket without permessage-deflate whose sender is
 * idle (nothing being compressed or queued, so the frame cannot overtake an earlier message).
 * Otherwise, or when ws's internals are not the ones this was written against, the message goes
 * through `socket.send` as a string, and ws orders, compresses and frames it.
 */
export interface SharedMessage {
  /** Same for every socket of one subscription: the message up to its payload. */
  head: Buffer;
  /** Same for every subscriber of one operation group: the payload and the closing brace. */
  body: Buffer;
  /** The whole frame (header, head, body) when it is shared too (subscriptions with the same id). */
  frame?: Buffer;
}

/** What this relies on inside ws 8 (lib/websocket.js, lib/sender.js). */
interface WsInternals {
  _socket?: Socket | null;
  _extensions?: Record<string, unknown>;
  _sender?: { _state?: number; _queue?: unknown[] } | null;
}

/** Sender's idle state (ws 8.17+: DEFAULT = 0; DEFLATING and GET_BLOB_DATA queue what follows). */
const SENDER_IDLE = 0;

/** Whether `message` can go straight to the socket beneath `socket` (see above). */
function writableBeneath(socket: WebSocket): Socket | null {
  // After a close frame nothing may follow; ws drops late sends itself.
  if (socket.readyState !== socket.OPEN) return null;
  const internals = socket as unknown as WsInternals;
  const raw = internals._socket;
  const sender = internals._sender;
  if (!raw || !sender || !internals._extensions) return null;
  if (internals._extensions['permessage-deflate']) return null;
  if (sender._state !== SENDER_IDLE || !Array.isArray(sender._queue) || sender._queue.length > 0) return null;
  if (raw.destroyed || !raw.writable) return null;
  return raw;
}

/** Writes one text message to `socket`; falls back to `socket.send` where sharing is not safe. */
export function sendShared(socket: WebSocket, message: SharedMessage): void {
  const raw = writableBeneath(socket);
  if (!raw) {
    socket.send(Buffer.concat([message.head, message.body]).toString('utf8'));
    return;
  }
  if (message.frame) {
    raw.write(message.frame);
    return;
  }
  const header = headerFor(message.head.length + message.body.length);
  raw.cork();
  raw.write(header);
  raw.write(message.head);
  raw.write(message.body);
  raw.uncork();
}

/** The frame of `message` in one buffer, to write as is to every socket that takes the same message. */
export function wholeFrame(message: SharedMessage): Buffer {
  return Buffer.concat([frameHeader(message.head.length + message.body.length), message.head, message.body]);
}

/** A fan-out writes one length to every socket in turn (one id length, one body): keep the last header. */
let lastHeader: { length: number; header: Buffer } = { length: -1, header: Buffer.alloc(0) };

function headerFor(length: number): Buffer {
  if (lastHeader.length !== length) lastHeader = { length, header: frameHeader(length) };
  return lastHeader.header;
}

/** RFC 6455 §5.2 header of a final, unmasked text frame of `length` payload bytes (server to client). */
export function frameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x81, length]);
  if (length < 0x10000) {
    const header = Buffer.allocUnsafe(4);
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.allocUnsafe(10);
  header[0] = 0x81;
  header[1] = 127;
  header.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
  header.writeUInt32BE(length >>> 0, 6);
  return header;
}
