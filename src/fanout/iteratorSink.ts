import type { RoomEvent } from '../domain/events.js';
import { UnavailableError } from '../domain/errors.js';
import type { RoomSubscriber } from './roomHub.js';

/**
 * The end of a subscription whose client read too slowly. A ChatError, so every transport edge
 * sends it as it is (code UNAVAILABLE: resubscribing is worth it at once) rather than masking it
 * as "Unexpected error.", which left an SSE client with nothing to resume by.
 */
export class SlowConsumerError extends UnavailableError {
  constructor(limit: number) {
    super(`slow consumer: more than ${limit} events were waiting; resubscribe with afterSeq to resume`, 0);
    this.name = 'SlowConsumerError';
  }
}

/**
 * A room subscription as a hand-written async iterator (not an `async function*`: a generator's
 * `return()` waits behind its pending `await`, so a closed client would be cleaned up only at the
 * next event — graphql-ws #653). `return()` here settles a waiting `next()` at once and runs
 * `onReturn` (detach from the hub, presence offline) immediately.
 *
 * Slow consumers: at most `maxQueued` events wait here. Past that the iterator throws
 * SlowConsumerError instead of buffering without bound; the client resumes with afterSeq from
 * the last seq it got, losing nothing.
 */
export class IteratorSink<T = RoomEvent> implements RoomSubscriber, AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private failWaiting: ((error: unknown) => void) | null = null;
  private drained: (() => void) | null = null;
  private failure: unknown = null;
  private done = false;
  onReturn: () => void = () => {};

  constructor(private readonly maxQueued = 1_000) {}

  deliver(event: RoomEvent): void {
    this.push(event as T);
  }

  push(item: T): void {
    if (this.done || this.failure) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.failWaiting = null;
      resolve({ value: item, done: false });
      return;
    }
    if (this.queue.length >= this.maxQueued) {
      this.fail(new SlowConsumerError(this.maxQueued));
      return;
    }
    this.queue.push(item);
  }

  /** Catch-up pacing: wait until the consumer has taken at least half of what is queued. */
  ready(): Promise<void> {
    if (this.queue.length < this.maxQueued / 2 || this.done) return Promise.resolve();
    return new Promise((resolve) => (this.drained = resolve));
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.failure = error;
    this.queue.length = 0;
    if (this.failWaiting) {
      const reject = this.failWaiting;
      this.waiting = this.failWaiting = null;
      this.failure = null;
      this.done = true;
      reject(error);
    }
    this.finish();
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.queue.shift();
    if (item !== undefined) {
      if (this.drained && this.queue.length < this.maxQueued / 2) {
        this.drained();
        this.drained = null;
      }
      return Promise.resolve({ value: item, done: false });
    }
    if (this.failure) {
      const error = this.failure;
      this.failure = null;
      this.done = true;
      return Promise.reject(error);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failWaiting = reject;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.done = true;
    this.queue.length = 0;
    if (this.waiting) this.waiting({ value: undefined, done: true });
    this.waiting = this.failWaiting = null;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    this.drained?.();
    this.drained = null;
    const onReturn = this.onReturn;
    this.onReturn = () => {};
    onReturn();
  }
}
