import type { WebSocket } from 'ws';
import type { RoomEvent } from '../domain/events.js';
import type { RoomSubscriber } from '../fanout/roomHub.js';
import { CloseCodes } from '../../schema/codes.js';
import type { OperationGroup } from './sharedExecution.js';
import { sendShared } from './sharedFrame.js';
import { boundedDocumentCache } from './documentCache.js';

export interface SlowConsumerPolicy {
  /** Unsent bytes on a socket past which it is closed with 4008 (reconnect and resume by seq). */
  maxBufferedBytes: number;
  /** Catch-up from the log pauses while more than this is unsent. */
  resumeBelowBytes: number;
  /** How long catch-up waits for a socket to drain before giving up on it as slow. */
  drainTimeoutMs: number;
}

/** Heads by operation id: clients number their operations alike ("1", "2"…), so a few ids recur. */
const heads = boundedDocumentCache<Buffer>({ maxEntries: 1_024, maxDocumentChars: 64 });

/** `{"id":…,"type":"next","payload":` for an id, shared (never written to) by every subscription with that id. */
function headFor(id: string): Buffer {
  let head = heads.get(id);
  if (!head) heads.set(id, (head = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`)));
  return head;
}

/**
 * One roomEvents subscription on a WebSocket, written straight to the socket: each event is
 * rendered and encoded once per operation group, and this subscription only puts its own
 * `{"id":…,"type":"next","payload":` (encoded once, at the start) before those shared bytes
 * (sharedFrame.ts). Writing ourselves (rather than through graphql-ws's emit, which copies,
 * validates, stringifies and awaits per subscriber) is the point.
 *
 * It is also the async iterator graphql-ws holds for the operation: it never yields, and
 * graphql-ws calls `return()` when the client completes or the socket closes, which stops delivery
 * at once.
 *
 * Slow consumers: the policy is "disconnect, and let the client resume". When a socket's unsent
 * data passes `maxBufferedBytes`, the server stops buffering for it and closes it with 4008; the
 * client reconnects (to any node) with afterSeq = the last seq it got and loses nothing. One slow
 * client never costs the others anything, and the server never buffers without bound. When the
 * SERVER is the bottleneck, sockets drain fine and nobody is closed: the backlog then waits in
 * the broker and the log, not in per-client queues.
 */
export class RawSocketSink implements RoomSubscriber, AsyncIterableIterator<never> {
  /** `{"id":…,"type":"next","payload":`, encoded once: the part of each message that is this subscription's. */
  private readonly head: Buffer;
  private finished = false;
  private wake: ((result: IteratorResult<never>) => void) | null = null;
  private wakeWithError: ((error: unknown) => void) | null = null;
  /** Set by `fail` before graphql-ws asked for the next result: the error it gets then. */
  private failure: { error: unknown } | null = null;
  onReturn: () => void = () => {};

  constructor(
    private readonly socket: WebSocket,
    private readonly id: string,
    private readonly group: OperationGroup,
    private readonly policy: SlowConsumerPolicy,
    private readonly onSlow: () => void,
    private readonly onDelivered: () => void,
  ) {
    this.head = headFor(id);
    group.join(id);
  }

  deliver(event: RoomEvent): void {
    if (this.finished) return;
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.policy.maxBufferedBytes) {
      this.slow();
      return;
    }
    sendShared(this.socket, this.group.message(event, this.id, this.head));
    this.onDelivered();
  }

  async ready(): Promise<void> {
    const deadline = Date.now() + this.policy.drainTimeoutMs;
    while (!this.finished && this.socket.bufferedAmount > this.policy.resumeBelowBytes) {
      if (Date.now() > deadline) {
        this.slow();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private slow(): void {
    this.onSlow();
    this.socket.close(CloseCodes.SlowConsumer.code, 'slow consumer: reconnect and resume with afterSeq');
    void this.return();
  }

  next(): Promise<IteratorResult<never>> {
    if (this.failure) {
      const { error } = this.failure;
      this.failure = null;
      return Promise.reject(error);
    }
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.wake = resolve;
      this.wakeWithError = reject;
    });
  }

  /**
   * Ends the subscription with `error` (e.g. FORBIDDEN once the subscriber left a private room):
   * graphql-ws sends it as the operation's error, and delivery stops at once.
   */
  fail(error: unknown): void {
    if (this.finished) return;
    const reject = this.wakeWithError;
    this.wake = this.wakeWithError = null;
    if (reject) reject(error);
    else this.failure = { error };
    this.finish();
  }

  return(): Promise<IteratorResult<never>> {
    if (!this.finished) {
      this.wake?.({ value: undefined, done: true });
      this.wake = this.wakeWithError = null;
      this.finish();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  private finish(): void {
    this.finished = true;
    this.group.leave(this.id);
    this.group.release();
    this.onReturn();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
