/**
 * 8. Read after write, across nodes: what read-your-writes (README, "Consistency") costs a read.
 * Two roomlog nodes on one SQLite DATA_DIR and one Redis. Each round sends a message on node 1
 * and, as soon as it is acknowledged, reads `room(id) { headSeq }` (or `messages`) on node 2 —
 * a read that must wait until the projector (the lease holder) has applied the send — and, in
 * the same round, makes the same read with no write before it (the read models are already
 * there). Rounds alternate the two, so machine noise falls on both alike. The table's "bare ws"
 * column holds the no-write figure here; every read after a send is also checked for staleness.
 */
import { randomUUID } from 'node:crypto';
import { Procs, startPair, startRedis, withCpuOf } from '../cluster.js';
import { createRoom, createSession, gqlHttp } from '../load/http.js';
import { fmt, ratio, verdict, type Row } from '../table.js';
import type { Scenario } from './context.js';

const ROOM = 'query($id: ID!) { room(id: $id) { headSeq } }';
const MESSAGES = 'query($id: ID!) { messages(roomId: $id, limit: 50) { seq clientMessageId } }';
const SEND = 'mutation($id: ID!, $body: String!, $cid: ID!) { sendMessage(roomId: $id, body: $body, clientMessageId: $cid) { seq } }';

interface ReadSample {
  ms: number;
  seq: number;
}

const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};

export const readAfterWriteScenario: Scenario = async (ctx) => {
  const rounds = ctx.cfg.quick ? 100 : 400;
  const procs = new Procs();
  try {
    const redis = procs.add(await startRedis());
    const [writer, reader] = await startPair(ctx, 'roomlog', redis.url, 'ryw', procs);
    const session = await createSession(writer!.url, 'bench');
    const roomId = await createRoom(writer!.url, session.token, 'read after write');
    const read = async (query: string, field: 'room' | 'messages'): Promise<ReadSample> => {
      const started = performance.now();
      const data = await gqlHttp<{ room?: { headSeq: number }; messages?: Array<{ seq: number }> }>(reader!.url, query, { id: roomId }, session.token);
      const ms = performance.now() - started;
      return { ms, seq: field === 'room' ? (data.room?.headSeq ?? 0) : (data.messages?.at(-1)?.seq ?? 0) };
    };
    const send = async (): Promise<number> =>
      (await gqlHttp<{ sendMessage: { seq: number } }>(writer!.url, SEND, { id: roomId, body: 'x', cid: randomUUID() }, session.token)).sendMessage.seq;
    // Warm both nodes (connections, caches, the JIT) before measuring.
    for (let i = 0; i < 20; i++) {
      await send();
      await read(ROOM, 'room');
      await read(MESSAGES, 'messages');
    }
    const samples = { roomAfter: [] as number[], roomQuiet: [] as number[], messagesAfter: [] as number[], messagesQuiet: [] as number[] };
    let stale = 0;
    const pids = { node1: writer!.pid, node2: reader!.pid, redis: redis.pid };
    await withCpuOf(ctx, 'read after write', pids, async () => {
      for (let i = 0; i < rounds; i++) {
        const [query, field, after, quiet] = i % 2 === 0 ? [ROOM, 'room' as const, samples.roomAfter, samples.roomQuiet] : [MESSAGES, 'messages' as const, samples.messagesAfter, samples.messagesQuiet];
        quiet.push((await read(query, field)).ms);
        const seq = await send();
        const sample = await read(query, field);
        after.push(sample.ms);
        if (sample.seq < seq) stale++;
      }
    });
    ctx.notes.push(
      `read after write: ${rounds} rounds over two nodes (send on node 1, read on node 2 right after the acknowledgement); ` +
        `in its rows the "bare ws" column is the same read with no write before it, the ratio is after ÷ without.`,
    );
    const scenario = '8. read after write (2 nodes)';
    const row = (metric: string, after: number, quiet: number): Row => ({
      scenario,
      metric,
      roomlog: fmt(after, 1),
      bare: fmt(quiet, 1),
      ratio: ratio(after, quiet),
      target: '',
      result: '',
    });
    return [
      row('room(id) on node 2 after a send on node 1: p50 ms', percentile(samples.roomAfter, 50), percentile(samples.roomQuiet, 50)),
      row('… p99 ms', percentile(samples.roomAfter, 99), percentile(samples.roomQuiet, 99)),
      row('messages on node 2 after a send on node 1: p50 ms', percentile(samples.messagesAfter, 50), percentile(samples.messagesQuiet, 50)),
      row('… p99 ms', percentile(samples.messagesAfter, 99), percentile(samples.messagesQuiet, 99)),
      { scenario, metric: 'stale reads (missing the acknowledged send)', roomlog: fmt(stale), bare: '', ratio: '', target: '0', result: verdict(stale === 0) },
    ];
  } finally {
    await procs.stopAll();
  }
};
