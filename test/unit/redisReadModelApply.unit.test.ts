/**
 * The Redis read models' apply on a connection still in its handshake (src/readModels/redisReadModelApply.ts).
 * ioredis sends commands flagged `loading` (WATCH is one) before its ready check has finished, so
 * WATCH can be answered before the 'ready' event that counts the connection: a batch that took
 * its connection number then was refused at EXEC as if the connection had been replaced (the
 * Redis contract's first test failed about one run in four). A fake writer stages exactly that.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { applyBatch, trackConnections, type ApplyState } from '../../src/readModels/redisReadModelApply.js';
import { readModelKeys } from '../../src/readModels/redisReadModelLayout.js';
import { alice, created, joined, stored } from './fixtures.js';

/** A writer in status 'connect' that answers WATCH at once and becomes ready a moment later. */
function handshakingWriter() {
  const emitter = new EventEmitter();
  const written: string[] = [];
  const writer = Object.assign(emitter, {
    status: 'connect',
    watch: async () => 'OK',
    unwatch: async () => 'OK',
    mget: async (...keys: string[]) => keys.map(() => null),
    smembers: async () => [],
    zrangebyscore: async () => [],
    multi() {
      const queued: string[] = [];
      const tx = new Proxy(
        {},
        {
          get: (_target, name: string) =>
            name === 'exec'
              ? async () => {
                  written.push(...queued);
                  return queued.map(() => [null, 'OK']);
                }
              : (...args: unknown[]) => {
                  queued.push(`${name} ${args.join(' ')}`);
                  return tx;
                },
        },
      );
      return tx;
    },
  });
  setTimeout(() => {
    writer.status = 'ready';
    emitter.emit('ready');
  }, 20);
  return { writer: writer as unknown as Redis, written };
}

describe('Redis read models: apply on a connection still in its handshake', () => {
  it('waits for the connection to be ready and counted, then applies the batch on it', async () => {
    const { writer, written } = handshakingWriter();
    const state: ApplyState = { writer, key: readModelKeys('t:'), connection: 0 };
    trackConnections(state);
    await applyBatch(state, [stored(created('r'), 1, 1), stored(joined('r', alice), 2, 2)]);
    expect(written).toContain('set t:rm2:checkpoint 2');
    expect(written).toContain(`sadd t:rm2:user:${alice.id}:rooms r`);
  });
});
