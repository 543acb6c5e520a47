import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { roomChannel } from '../../src/broker/broker.js';
import { createMemoryBroker } from '../../src/broker/memoryBroker.js';
import { roomStream, type RoomEvent } from '../../src/domain/events.js';
import { toRoomEvent } from '../../src/domain/fromStored.js';
import type { EventStore } from '../../src/eventStore/eventStore.js';
import type { KeepsStreamMetadata } from '../../src/eventStore/retentionCapabilities.js';
import { createMemoryEventStore } from '../../src/eventStore/memoryEventStore.js';
import { RoomHub, type RoomSubscriber } from '../../src/fanout/roomHub.js';

/**
 * The room hub turns an at-most-once broker plus the log into exactly-once, in-order delivery.
 * These tests give it a broker that loses, duplicates and reorders on purpose.
 */
interface Faults {
  drop?: (seq: number) => boolean;
  duplicate?: (seq: number) => boolean;
  /** Hold a message back and deliver it after the next one. */
  swap?: (seq: number) => boolean;
}

function faultyBroker(inner: Broker, faults: Faults): Broker {
  let held: { channel: string; message: RoomEvent } | null = null;
  return {
    ...inner,
    async publish(channel, message) {
      const event = message as RoomEvent;
      if (faults.drop?.(event.seq)) return;
      if (faults.swap?.(event.seq) && !held) {
        held = { channel, message: event };
        return;
      }
      await inner.publish(channel, event);
      if (faults.duplicate?.(event.seq)) await inner.publish(channel, event);
      if (held) {
        const late = held;
        held = null;
        await inner.publish(late.channel, late.message);
      }
    },
  };
}

class Recorder implements RoomSubscriber {
  seqs: number[] = [];
  deliver(event: RoomEvent) {
    this.seqs.push(event.seq);
  }
  ready() {
    return Promise.resolve();
  }
}

const until = async (condition: () => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('RoomHub', () => {
  let hub: RoomHub | null = null;
  let store: EventStore & KeepsStreamMetadata; // a prefix-cutting store, as EventStoreDB
  afterEach(async () => {
    await hub?.close();
    hub = null;
  });

  /** Appends one event to room r and publishes it, as src/chat/runCommand.ts does. */
  async function send(broker: Broker, n: number) {
    for (let i = 0; i < n; i++) {
      const result = await store.append(roomStream('r'), [{ id: crypto.randomUUID(), type: 'MessageEdited', data: { roomId: 'r', messageId: 'm', body: `${i}` } }], { expectedRevision: 'any' });
      void broker.publish(roomChannel('r'), toRoomEvent(result.events[0]!));
    }
  }

  function setup(faults: Faults, headCheckIntervalMs = 60_000) {
    store = createMemoryEventStore();
    const inner = createMemoryBroker();
    const broker = faultyBroker(inner, faults);
    hub = new RoomHub({ store, broker: inner, headCheckIntervalMs, brokerWaitMs: 100 });
    return broker;
  }

  it('delivers live events in order exactly once despite duplicates and reordering', async () => {
    const broker = setup({ duplicate: (s) => s % 3 === 0, swap: (s) => s % 5 === 0 });
    const subscriber = new Recorder();
    await hub!.attach('r', undefined, subscriber);
    await send(broker, 100);
    await until(() => subscriber.seqs.length >= 100);
    expect(subscriber.seqs).toEqual(range(1, 100));
  });

  it('fills a gap from the log as soon as a later event shows it', async () => {
    const broker = setup({ drop: (s) => s % 7 === 0 && s < 100 });
    const subscriber = new Recorder();
    await hub!.attach('r', undefined, subscriber);
    await send(broker, 100);
    await until(() => subscriber.seqs.length >= 100);
    expect(subscriber.seqs).toEqual(range(1, 100));
  });

  it('goes on past events that retention dropped from the log before it could read them (a prefix-cutting store)', async () => {
    const broker = setup({ drop: (s) => s > 10 && s < 30 });
    const subscriber = new Recorder();
    await hub!.attach('r', undefined, subscriber);
    await send(broker, 10);
    await until(() => subscriber.seqs.length >= 10);
    await send(broker, 19); // 11..29, all publishes lost
    await store.setStreamRetention(roomStream('r'), { maxCount: 5 });
    await send(broker, 1); // 30, published: shows the gap; the log now keeps 26..30
    await until(() => subscriber.seqs.at(-1) === 30);
    expect(subscriber.seqs).toEqual([...range(1, 10), ...range(26, 30)]);
    await send(broker, 3);
    await until(() => subscriber.seqs.length >= 18);
    expect(subscriber.seqs.slice(15)).toEqual([31, 32, 33]);
  });

  it('repairs a lost LAST publish through the head check', async () => {
    const broker = setup({ drop: (s) => s === 10 }, 100);
    const subscriber = new Recorder();
    await hub!.attach('r', undefined, subscriber);
    await send(broker, 10);
    await until(() => subscriber.seqs.length >= 10, 2_000);
    expect(subscriber.seqs).toEqual(range(1, 10));
  });

  it('replays from afterSeq and joins live with no gap and no duplicate while sends go on', async () => {
    const broker = setup({ duplicate: (s) => s % 4 === 0 });
    await send(broker, 50);
    const early = new Recorder();
    await hub!.attach('r', undefined, early);
    const sending = send(broker, 300);
    const late: Array<{ after: number; recorder: Recorder }> = [];
    for (const after of [0, 17, 49, 120]) {
      // Part of the scenario: each attach lands at a different point of the sends in flight.
      await new Promise((r) => setTimeout(r, 1));
      const recorder = new Recorder();
      late.push({ after, recorder });
      await hub!.attach('r', after, recorder);
    }
    await sending;
    await until(() => late.every(({ recorder }) => recorder.seqs.at(-1) === 350) && early.seqs.at(-1) === 350);
    expect(early.seqs).toEqual(range(51, 350));
    for (const { after, recorder } of late) expect(recorder.seqs).toEqual(range(after + 1, 350));
  });

  it('stops delivering to a detached subscriber and releases the room when the last one leaves', async () => {
    const broker = setup({});
    const stays = new Recorder();
    const leaves = new Recorder();
    await hub!.attach('r', undefined, stays);
    const detach = await hub!.attach('r', undefined, leaves);
    await send(broker, 3);
    await until(() => leaves.seqs.length === 3);
    detach();
    await send(broker, 3);
    await until(() => stays.seqs.length === 6);
    expect(leaves.seqs).toEqual([1, 2, 3]);
    expect(hub!.roomCount).toBe(1);
  });

  it('keeps delivering to the others when one subscriber throws', async () => {
    const broker = setup({});
    const good = new Recorder();
    await hub!.attach('r', undefined, { deliver: () => { throw new Error('broken socket'); }, ready: () => Promise.resolve() });
    await hub!.attach('r', undefined, good);
    await send(broker, 5);
    await until(() => good.seqs.length === 5);
    expect(good.seqs).toEqual(range(1, 5));
  });
});
