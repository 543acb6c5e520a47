import { describe, expect, it, vi } from 'vitest';
import { IteratorSink, SlowConsumerError } from '../../src/fanout/iteratorSink.js';
import type { RoomEvent } from '../../src/domain/events.js';
import { joined, stored } from './fixtures.js';
import { alice } from './fixtures.js';

/** Whether a promise has settled by the time pending microtasks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}

const event = (seq: number): RoomEvent => stored(joined('r', alice), seq);

describe('IteratorSink', () => {
  it('delivers queued items in order', async () => {
    const sink = new IteratorSink<number>();
    sink.push(1);
    sink.push(2);
    sink.push(3);
    expect(await sink.next()).toEqual({ value: 1, done: false });
    expect(await sink.next()).toEqual({ value: 2, done: false });
    expect(await sink.next()).toEqual({ value: 3, done: false });
  });

  it('a waiting next() gets the next item as soon as it comes', async () => {
    const sink = new IteratorSink<number>();
    const pending = sink.next();
    expect(await settled(pending)).toBe(false);
    sink.push(7);
    sink.push(8);
    expect(await pending).toEqual({ value: 7, done: false });
    expect(await sink.next()).toEqual({ value: 8, done: false });
  });

  it('deliver() hands room events through in order, also via for await', async () => {
    const sink = new IteratorSink();
    for (let seq = 1; seq <= 3; seq++) sink.deliver(event(seq));
    const seen: number[] = [];
    for await (const e of sink) {
      seen.push(e.seq);
      if (seen.length === 3) break; // calls return()
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(await sink.next()).toEqual({ value: undefined, done: true });
  });

  it('return() settles a pending next() at once and calls onReturn exactly once', async () => {
    const sink = new IteratorSink<number>();
    const onReturn = vi.fn();
    sink.onReturn = onReturn;
    const pending = sink.next();

    expect(await sink.return()).toEqual({ value: undefined, done: true });
    expect(await settled(pending)).toBe(true);
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(onReturn).toHaveBeenCalledTimes(1);

    await sink.return();
    expect(onReturn).toHaveBeenCalledTimes(1);
  });

  it('after return(): queued items are dropped, pushes ignored, next() is done', async () => {
    const sink = new IteratorSink<number>();
    sink.push(1);
    await sink.return();
    sink.push(2);
    expect(await sink.next()).toEqual({ value: undefined, done: true });
    expect(await sink.next()).toEqual({ value: undefined, done: true });
  });

  it('overflow past maxQueued: next() throws SlowConsumerError, onReturn called once, then done', async () => {
    const sink = new IteratorSink<number>(3);
    const onReturn = vi.fn();
    sink.onReturn = onReturn;
    for (let i = 1; i <= 3; i++) sink.push(i);
    expect(onReturn).not.toHaveBeenCalled();

    sink.push(4); // one too many
    expect(onReturn).toHaveBeenCalledTimes(1);
    await expect(sink.next()).rejects.toBeInstanceOf(SlowConsumerError);
    await expect(sink.next()).resolves.toEqual({ value: undefined, done: true });

    sink.push(5);
    await sink.return();
    expect(onReturn).toHaveBeenCalledTimes(1);
  });

  it('SlowConsumerError says how many were waiting and how to resume', () => {
    const error = new SlowConsumerError(1_000);
    expect(error.name).toBe('SlowConsumerError');
    expect(error.message).toMatch(/1000/);
    expect(error.message).toMatch(/afterSeq/);
  });

  it('a consumer that keeps up never overflows (a waiting next() takes the item, not the queue)', async () => {
    const sink = new IteratorSink<number>(1);
    for (let i = 0; i < 10; i++) {
      const pending = sink.next();
      sink.push(i);
      expect(await pending).toEqual({ value: i, done: false });
    }
  });

  it('fail() rejects a waiting next() with the error and calls onReturn', async () => {
    const sink = new IteratorSink<number>();
    const onReturn = vi.fn();
    sink.onReturn = onReturn;
    const pending = sink.next();
    const boom = new Error('boom');
    sink.fail(boom);
    await expect(pending).rejects.toBe(boom);
    expect(onReturn).toHaveBeenCalledTimes(1);
    await expect(sink.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('ready() resolves at once while the queue is below half of maxQueued', async () => {
    const sink = new IteratorSink<number>(4);
    sink.push(1);
    expect(await settled(sink.ready())).toBe(true);
  });

  it('ready() waits at half full and resolves once drained below half', async () => {
    const sink = new IteratorSink<number>(4);
    for (let i = 1; i <= 4; i++) sink.push(i);
    const ready = sink.ready();
    expect(await settled(ready)).toBe(false);

    await sink.next(); // 3 left, not below 2
    expect(await settled(ready)).toBe(false);
    await sink.next(); // 2 left, not below 2
    expect(await settled(ready)).toBe(false);
    await sink.next(); // 1 left: below half
    expect(await settled(ready)).toBe(true);
  });

  it('ready() resolves when the consumer goes away instead of draining', async () => {
    const sink = new IteratorSink<number>(2);
    sink.push(1);
    const ready = sink.ready();
    expect(await settled(ready)).toBe(false);
    await sink.return();
    expect(await settled(ready)).toBe(true);
    expect(await settled(sink.ready())).toBe(true);
  });
});
