import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventStoreUnavailableError, WrongExpectedRevisionError, type EventStore, type StoredEvent } from '../../src/eventStore/eventStore.js';
import { createSqliteEventStore } from '../../src/eventStore/sqliteEventStore.js';
import { deletesOldEventsContract } from './deletesOldEvents.contract.js';
import { eventStoreContract, until } from './eventStore.contract.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const appenderScript = fileURLToPath(new URL('../support/sqliteAppender.ts', import.meta.url));
// Short poll so cross-instance tests do not wait long; the same-instance path wakes at once anyway.
const pollIntervalMs = 20;

const sqliteFile = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'roomlog-es-'));
  const file = join(dir, 'events.db');
  return {
    store: createSqliteEventStore({ file, pollIntervalMs }),
    reopen: async () => createSqliteEventStore({ file, pollIntervalMs }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
};
eventStoreContract('sqlite', sqliteFile, { persistent: true, retention: ['deletesOldEvents'] });
deletesOldEventsContract('sqlite', sqliteFile);

describe('SQLite event store shared between processes', () => {
  let dir: string;
  let file: string;
  const stores: EventStore[] = [];
  const children: ChildProcess[] = [];

  function open(options: { pollIntervalMs?: number } = { pollIntervalMs }): EventStore {
    const store = createSqliteEventStore({ file, ...options });
    stores.push(store);
    return store;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'roomlog-es-'));
    file = join(dir, 'events.db');
  });

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const store of stores.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('wakes a subscription at once on appends made through the same instance', async () => {
    const store = open({ pollIntervalMs: 60_000 }); // so only the wake-up can deliver in time
    const received: StoredEvent[] = [];
    const subscription = store.subscribeToAll({ afterPosition: 0, onEvent: (e) => void received.push(e) });
    await delay(20); // let it catch up on the empty log and go to sleep
    await store.append('room-a', [{ id: 'a1', type: 'MessagePosted', data: {} }], { expectedRevision: 0 });
    await until(() => received.length === 1, 1000);
    await subscription.close();
  });

  it("sees another instance's appends by polling, and loses a race to it", async () => {
    const writer = open();
    const other = open();
    const received: StoredEvent[] = [];
    const subscription = other.subscribeToAll({ afterPosition: 0, onEvent: (e) => void received.push(e) });

    await writer.append('room-a', [{ id: 'a1', type: 'MessagePosted', data: {} }], { expectedRevision: 0 });
    await until(() => received.length === 1);
    expect(received[0]).toMatchObject({ id: 'a1', revision: 1 });

    // Both read revision 1; the first to append wins and the other is told what it missed.
    expect(await writer.streamRevision('room-a')).toBe(1);
    expect(await other.streamRevision('room-a')).toBe(1);
    await writer.append('room-a', [{ id: 'a2', type: 'MessagePosted', data: {} }], { expectedRevision: 1 });
    const lost = await other
      .append('room-a', [{ id: 'b2', type: 'MessagePosted', data: {} }], { expectedRevision: 1 })
      .catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(WrongExpectedRevisionError);
    expect(lost).toMatchObject({ expected: 1, actual: 2 });
    await until(() => received.length === 2);
    await subscription.close();
  });

  it('serialises two writer processes: gap-free revisions, positions seen in order', async () => {
    const reader = open();
    await reader.headPosition(); // creates the schema before the writers race to
    const received: StoredEvent[] = [];
    const subscription = reader.subscribeToAll({ afterPosition: 0, onEvent: (e) => void received.push(e) });

    const writers = ['a', 'b'].map((prefix) => startAppender(file, 'room-shared', 150, prefix, 1));
    children.push(...writers.map((w) => w.child));
    await Promise.all(writers.map((w) => w.ready));
    for (const writer of writers) writer.start();
    const exits = await Promise.all(writers.map((w) => w.exited));
    expect(exits).toEqual([0, 0]);

    const stream = await reader.readStream('room-shared');
    expect(stream.map((e) => e.revision)).toEqual(range(1, 300));
    // Otherwise one writer ran after the other and nothing raced (typically ~290 switches).
    const switches = stream.filter((e, i) => i > 0 && e.id[0] !== stream[i - 1]?.id[0]).length;
    expect(switches).toBeGreaterThan(10);
    for (const prefix of ['a', 'b']) {
      const own = stream.filter((e) => e.id.startsWith(`${prefix}-`)).map((e) => e.id);
      expect(own).toEqual(range(1, 150).map((i) => `${prefix}-${i}`));
    }
    await until(() => received.length === 300);
    expect(received).toEqual(await reader.readAll());
    await subscription.close();
  });

  it('keeps every acknowledged append when the writer is killed with SIGKILL', async () => {
    const writer = startAppender(file, 'room-durable', 100_000, 'd');
    children.push(writer.child);
    await writer.ready;
    writer.start();
    await until(() => writer.acknowledged.length >= 150, 20_000);
    writer.child.kill('SIGKILL');
    await writer.exited;
    const acknowledged = [...writer.acknowledged];
    expect(acknowledged).toEqual(range(1, acknowledged.length));

    const reopened = open();
    const stream = await reopened.readStream('room-durable');
    // At most one more: an append can commit and be killed before printing its acknowledgement.
    expect(stream.length - acknowledged.length).toBeGreaterThanOrEqual(0);
    expect(stream.length - acknowledged.length).toBeLessThanOrEqual(1);
    expect(stream.map((e) => e.revision)).toEqual(range(1, stream.length));
    expect(stream.map((e) => e.id)).toEqual(range(1, stream.length).map((i) => `d-${i}`));
  });
});

/**
 * Starts the appender in its own process. `ready` resolves once it has opened the store, `start()`
 * lets it go, and `acknowledged` fills with revisions as it prints them.
 */
function startAppender(file: string, stream: string, count: number, idPrefix: string, pauseMs = 0) {
  const args = ['--import', 'tsx', appenderScript, file, stream, String(count), idPrefix, String(pauseMs)];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
  // 'close', not 'exit': it waits for stdout to drain, so no acknowledgement is still in flight.
  const exited = once(child, 'close').then(([code]) => code as number | null);
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const acknowledged: number[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? ''; // an unfinished line is not an acknowledgement yet
    for (const line of lines) {
      if (line === 'ready') markReady();
      else acknowledged.push(Number(line));
    }
  });
  return {
    child,
    acknowledged,
    exited,
    ready: Promise.race([
      ready,
      exited.then((code) => Promise.reject(new Error(`appender exited (${code}) before it was ready`))),
    ]),
    start: () => child.stdin?.end('go\n'),
  };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('SQLite event store: a write lock held past every retry', () => {
  it('answers EventStoreUnavailableError (UNAVAILABLE to clients: try again), not an internal error; the next append after the lock goes through', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'roomlog-busy-'));
    const file = join(dir, 'events.sqlite');
    const store = createSqliteEventStore({ file, busyTimeoutMs: 20 });
    try {
      await store.append('room-a', [{ id: 'a1', type: 'MessagePosted', data: {} }], { expectedRevision: 0 });
      // Another process's long write transaction, as a second connection holding the lock.
      const other = new Database(file);
      other.exec('BEGIN IMMEDIATE');
      const refused = await store.append('room-a', [{ id: 'a2', type: 'MessagePosted', data: {} }], { expectedRevision: 1 }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(EventStoreUnavailableError);
      expect(refused).toMatchObject({ kind: 'unavailable', retryAfterMs: 1_000 });
      other.exec('ROLLBACK');
      other.close();
      expect((await store.append('room-a', [{ id: 'a2', type: 'MessagePosted', data: {} }], { expectedRevision: 1 })).revision).toBe(2);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
