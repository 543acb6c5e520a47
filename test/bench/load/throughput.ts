import { randomUUID } from 'node:crypto';
import { GqlSocket } from './gqlSocket.js';
import { createRoom, createSession, joinRoom } from './http.js';
import type { ThroughputRequest, ThroughputResult } from './protocol.js';
import { Histogram, mapLimit } from './stats.js';

const SEND = `mutation($roomId: ID!, $body: String!, $clientMessageId: ID!) {
  sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) { id seq }
}`;
const WARMUP_PER_SENDER = 5;

/**
 * Closed-loop senders: each has its own session and socket and keeps exactly one sendMessage in
 * flight, so N senders = N concurrent requests. Bounded by time and by a total message budget.
 */
export async function runThroughput(req: ThroughputRequest): Promise<ThroughputResult> {
  const run = randomUUID().slice(0, 8);
  const wsUrl = req.url.replace(/^http/, 'ws');
  const indexes = Array.from({ length: req.senders }, (_, i) => i);
  const sessions = await mapLimit(indexes, 16, (i) => createSession(req.url, `bench-${run}-sender-${i}`));
  const roomCount = Math.max(1, Math.min(req.rooms, req.senders));
  const roomIds = await mapLimit(indexes.slice(0, roomCount), 8, (i) => createRoom(req.url, sessions[i]!.token, `bench-${run}-${i}`));
  await mapLimit(indexes.slice(roomCount), 16, (i) => joinRoom(req.url, sessions[i]!.token, roomIds[i % roomCount]!));
  const sockets = await mapLimit(sessions, 32, (s) => GqlSocket.connect(wsUrl, s.token));

  let errors = 0;
  let firstError: string | undefined;
  const noteError = (e: unknown): void => {
    errors++;
    firstError ??= typeof e === 'string' ? e : e instanceof Error ? e.message : JSON.stringify(e).slice(0, 300);
  };
  const send = async (i: number, n: string): Promise<number | undefined> => {
    const r = await sockets[i]!.operation(SEND, { roomId: roomIds[i % roomCount], body: `bench ${run} from ${i} #${n}`, clientMessageId: `${run}-${i}-${n}` });
    if (r.errors?.length || !r.data) {
      noteError(r.errors ?? r);
      return undefined;
    }
    return (r.data.sendMessage as { seq: number }).seq;
  };

  await Promise.all(indexes.map(async (i) => {
    for (let w = 0; w < WARMUP_PER_SENDER; w++) await send(i, `w${w}`).catch(noteError);
  }));
  errors = 0;
  firstError = undefined;

  const hist = new Histogram();
  const seqsByRoom = roomIds.map(() => new Set<number>());
  let duplicateSeqs = 0;
  let acked = 0;
  let budget = req.maxMessages;
  const start = performance.now();
  const end = start + req.durationMs;
  await Promise.all(indexes.map(async (i) => {
    let n = 0;
    while (performance.now() < end && budget > 0) {
      budget--;
      const t0 = performance.now();
      try {
        const seq = await send(i, String(n++));
        if (seq === undefined) continue;
        hist.record(performance.now() - t0);
        acked++;
        const seen = seqsByRoom[i % roomCount]!;
        if (seen.has(seq)) duplicateSeqs++;
        seen.add(seq);
      } catch (e) {
        noteError(e);
        if (!sockets[i]!.isOpen) return;
      }
    }
  }));
  const elapsedMs = performance.now() - start;
  for (const s of sockets) s.close();
  return { acked, errors, firstError, elapsedMs, perSecond: (acked * 1000) / elapsedMs, latency: hist.summary(), duplicateSeqs };
}
