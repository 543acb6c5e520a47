import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMemoryBroker } from '../../src/broker/memoryBroker.js';
import { carryRoomForward } from '../../src/chat/commands/carryRoomForward.js';
import { trimHistory } from '../../src/chat/commands/trimHistory.js';
import type { RunCommandPorts } from '../../src/chat/runCommand.js';
import { createRoomCommandHandler, type RoomCommandHandler } from '../../src/commandHandling/roomCommandHandler.js';
import { roomStream, type UserRef } from '../../src/domain/events.js';
import { createEsdbEventStore } from '../../src/eventStore/esdbEventStore.js';
import type { EventStore } from '../../src/eventStore/eventStore.js';
import type { KeepsStreamMetadata } from '../../src/eventStore/retentionCapabilities.js';
import { createMetrics } from '../../src/metrics.js';
import type { RoomTrimmer } from '../../src/retention/roomTrimmer.js';
import { snapshotCarrier } from '../../src/retention/snapshotCarrier.js';
import { createStreamMetadataRetention } from '../../src/retention/streamMetadata.js';
import { createFakeEsdbClient, createFakeEsdbServer, type FakeEsdbServer } from '../support/fakeEsdbClient.js';
import { alice } from './fixtures.js';

/*
 * Finding 6 of issue 13: `$maxCount` lives in the STREAM's metadata, set by whichever node's
 * retention job ran, while how often a room carries its snapshot followed each node's own
 * RETENTION_MAX_COUNT. A node with a larger setting, or none, then let the last snapshot fall out
 * of the window, and the room was lost. Here several nodes (command handlers and retention jobs,
 * each with its own setting) share one EventStoreDB (the faithful fake).
 */
const log = pino({ level: 'silent' });

function node(server: FakeEsdbServer, maxCount: number | undefined, rooms = ['r']) {
  const store: EventStore & KeepsStreamMetadata = createEsdbEventStore({ client: createFakeEsdbClient({ server }) });
  // As src/server/services.ts wires a node on a store that drops stream prefixes.
  const commands: RoomCommandHandler = createRoomCommandHandler(store, { afterBatch: snapshotCarrier(maxCount) });
  const ports = { commands, store, metrics: createMetrics('test'), broker: createMemoryBroker(), log } as unknown as RunCommandPorts;
  const trimmer: RoomTrimmer = { trimHistory: trimHistory(ports), carryRoomForward: carryRoomForward(ports) };
  const retention = createStreamMetadataRetention({ store, trimmer, roomIds: async () => rooms, policy: { maxCount, intervalMs: 60_000 }, log });
  const post = (author: UserRef, n: number) => commands.execute('r', () => ({ type: 'PostMessage', author, clientMessageId: `c${n}`, body: `m${n}` }));
  return { store, commands, retention, post };
}

/** What a node that never saw the room folds from what the store still keeps. */
async function freshLoad(server: FakeEsdbServer) {
  return createRoomCommandHandler(createEsdbEventStore({ client: createFakeEsdbClient({ server }) })).load('r');
}

async function roomOn(server: FakeEsdbServer) {
  const first = node(server, 10);
  await first.commands.execute('r', () => ({ type: 'CreateRoom', roomId: 'r', name: 'kept', passwordHash: null, by: alice }));
  return first;
}

describe('finding 6: the snapshot cadence follows the window the stream has', () => {
  it('a node with a larger RETENTION_MAX_COUNT keeps a snapshot inside the window another node set', async () => {
    const server = createFakeEsdbServer();
    const small = await roomOn(server);
    await small.retention(0); // $maxCount = 10 on the stream
    const large = node(server, 100);
    for (let n = 0; n < 40; n++) await large.post(alice, n);
    expect((await freshLoad(server)).room).toMatchObject({ id: 'r', name: 'kept' });
  });

  it('a node without RETENTION_MAX_COUNT keeps it too, and its retention job lifts the window', async () => {
    const server = createFakeEsdbServer();
    const small = await roomOn(server);
    await small.retention(0);
    const none = node(server, undefined);
    for (let n = 0; n < 40; n++) await none.post(alice, n);
    expect((await freshLoad(server)).room).toMatchObject({ id: 'r', name: 'kept' });

    // Once every node has dropped the setting, the stream keeps everything again.
    await none.retention(0);
    for (let n = 100; n < 140; n++) await none.post(alice, n);
    const visible = await none.store.readStream(roomStream('r'));
    expect(visible.length).toBeGreaterThanOrEqual(40);
  });

  it('lowering the setting on one node keeps the snapshot inside the smaller window', async () => {
    const server = createFakeEsdbServer();
    const first = node(server, 40);
    await first.commands.execute('r', () => ({ type: 'CreateRoom', roomId: 'r', name: 'kept', passwordHash: null, by: alice }));
    await first.retention(0); // $maxCount = 40
    for (let n = 0; n < 15; n++) await first.post(alice, n);
    const lower = node(server, 6);
    await lower.retention(0); // $maxCount = 6
    for (let n = 100; n < 130; n++) await first.post(alice, n);
    expect((await freshLoad(server)).room).toMatchObject({ id: 'r', name: 'kept' });
  });

  it('finding 1: a room the job fails on does not stop the run for the rooms after it', async () => {
    const server = createFakeEsdbServer();
    await roomOn(server);
    server.write('room-gone', 'RoomCreated', {});
    server.tombstone('room-gone'); // an operator deleted it: its metadata takes no writes
    const job = node(server, 10, ['gone', 'r']);
    await job.retention(0);
    expect(await job.store.streamRetention(roomStream('r'))).toEqual({ maxCount: 10 });
  });
});
