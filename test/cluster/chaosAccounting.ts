/**
 * What a chaos run (chaosScenario.ts) delivered, judged against the log: every acknowledged send
 * in the log exactly once, at the seq it was acknowledged with; every follower got (afterSeq,
 * head] of its room once, ascending, with the right content; how long repair took; and which
 * client-visible errors were within the budget (README, "The guarantees"; issue 12): none for a
 * Redis restart or a SIGTERM (bar the 1012 that asks a drained node's followers to reconnect),
 * and for a kill -9 only what was in flight on the dead node.
 */
import type { RoomEventInfo } from '../support/gql.js';
import { accountDelivery, percentile, ranges } from '../support/cluster.js';
import { windowOf, type ClientError } from '../support/clientErrors.js';
import type { ChaosRun } from './chaosScenario.js';

/** After a fault, what happens this long after it ended still counts as its doing. */
export const FAULT_TAIL_MS = 5_000;

export interface ChaosAccount {
  sends: { expected: number; loggedOnce: number; missing: number; duplicated: number; wrongSeq: number; unknownPosts: number; unacked: string[] };
  delivery: { expected: number; delivered: number; lost: number; duplicated: number; outOfOrder: number; wrongContent: number };
  problems: string[];
  /** Client-visible errors the budget does not allow, described. */
  overBudget: string[];
  report: string[];
}

export function accountChaos(run: ChaosRun, errors: ClientError[]): ChaosAccount {
  const { clients, logs, roomIds } = run;
  const headOf = (roomId: string) => logs.get(roomId)!.at(-1)!.seq;
  const problems: string[] = [];

  // ---- the log: every acknowledged send exactly once, nothing else ------------------------------
  const sends = { expected: 0, loggedOnce: 0, missing: 0, duplicated: 0, wrongSeq: 0, unknownPosts: 0, unacked: [] as string[] };
  for (const roomId of roomIds) {
    const log = logs.get(roomId)!;
    if (log.some((e, i) => e.seq !== i + 1)) problems.push(`room ${roomId}: log seqs not 1..head: ${ranges(log.map((e) => e.seq))}`);
    const posts = new Map<string, RoomEventInfo[]>();
    for (const event of log.filter((e) => e.__typename === 'MessagePosted')) {
      const key = `${event.message!.author.id}|${event.message!.clientMessageId}`;
      posts.set(key, [...(posts.get(key) ?? []), event]);
    }
    const attempted = new Set<string>();
    for (const client of clients.filter((c) => c.roomId === roomId)) {
      for (const send of client.sends) {
        const key = `${client.user.user.id}|${send.clientMessageId}`;
        attempted.add(key);
        sends.expected++;
        const found = posts.get(key) ?? [];
        if (found.length === 0) {
          sends.missing++;
          problems.push(`missing from the log: ${key} (${send.acked ? `acked as seq ${send.acked.message.seq}` : `never acked: ${send.error}`})`);
        } else if (found.length > 1) {
          sends.duplicated += found.length - 1;
          problems.push(`in the log ${found.length}×: ${key} at seqs ${found.map((e) => e.seq).join(',')}`);
        } else sends.loggedOnce++;
        if (send.acked && found[0] && found[0].seq !== send.acked.message.seq) sends.wrongSeq++;
        if (!send.acked) sends.unacked.push(send.error ?? 'no answer');
      }
    }
    for (const key of posts.keys()) if (!attempted.has(key)) sends.unknownPosts++;
  }

  // ---- delivery: each client got (afterSeq, head] once, in order, with the right content --------
  const delivery = { expected: 0, delivered: 0, lost: 0, duplicated: 0, outOfOrder: 0, wrongContent: 0 };
  for (const client of clients) {
    const { follower } = client;
    const got = accountDelivery(follower.seqs, follower.firstAfterSeq ?? 0, headOf(client.roomId));
    for (const key of ['expected', 'delivered', 'lost', 'duplicated', 'outOfOrder'] as const) delivery[key] += got[key];
    const log = logs.get(client.roomId)!;
    for (const receipt of follower.received) {
      const logged = log[receipt.seq - 1];
      if (!logged || logged.__typename !== receipt.type || logged.message?.clientMessageId !== receipt.clientMessageId) delivery.wrongContent++;
    }
    if (got.lost || got.duplicated || got.outOfOrder) {
      problems.push(
        `client ${client.index} (room ${roomIds.indexOf(client.roomId)}, subscriptions ${follower.subscriptions.map((s) => `${s.node}@${s.afterSeq}`).join(' → ')}): ` +
          `missing ${ranges(got.missing)} duplicated ${ranges(got.duplicates)} out of order ${ranges(got.misordered)}; failures: ${follower.failures.slice(-3).join(' | ')}`,
      );
    }
  }

  // ---- repair delay: ack → receipt, for sends made while faults were happening ------------------
  const inFault = (time: number) => run.faults.some((f) => time >= f.start && time <= f.end + FAULT_TAIL_MS);
  const delays: number[] = [];
  const allDelays: number[] = [];
  const receipts = new Map(clients.map((c) => [c, new Map(c.follower.received.map((r) => [r.seq, r]))]));
  for (const client of clients) {
    const roommates = clients.filter((c) => c.roomId === client.roomId);
    for (const send of client.sends.filter((s) => s.acked)) {
      const { message, ackAt } = send.acked!;
      const during = inFault(send.firstAt) || inFault(ackAt);
      for (const other of roommates) {
        const receipt = receipts.get(other)!.get(message.seq);
        if (!receipt) continue;
        const delay = Math.max(0, receipt.at - ackAt);
        allDelays.push(delay);
        if (during) delays.push(delay);
      }
    }
  }

  const overBudget = judgeErrors(run, errors);
  const row = (name: string, values: Array<string | number>) => `  ${name.padEnd(22)}${values.map((v) => String(v).padStart(13)).join('')}`;
  const report = [
    row('', ['expected', 'delivered', 'lost', 'duplicated', 'out of order']),
    row('events to subscribers', [delivery.expected, delivery.delivered, delivery.lost, delivery.duplicated, delivery.outOfOrder]),
    row('sends in the log', [sends.expected, sends.loggedOnce, sends.missing, sends.duplicated, sends.wrongSeq]) + '  (out of order here: acked seq ≠ logged seq)',
    `  wrong content ${delivery.wrongContent}, unknown posts in the log ${sends.unknownPosts}, unacknowledged sends ${sends.unacked.length}`,
    `  repair delay (ack → receipt) during faults: p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms, max ${Math.max(...delays)} ms over ${delays.length} receipts`,
    `  ack → receipt overall: p50 ${percentile(allDelays, 50)} ms, p99 ${percentile(allDelays, 99)} ms over ${allDelays.length} receipts`,
    ...problems.slice(0, 20).map((p) => `  ${p}`),
    ...overBudget.slice(0, 20).map((p) => `  over the error budget: ${p}`),
  ];
  return { sends, delivery, problems, overBudget, report };
}

/**
 * The errors the budget does not allow. kill -9: a send may fail only if it was in flight when the
 * node died (begun before its exit was seen, ended after the signal), and at most as many sockets
 * may close as were open on it. SIGTERM: only the drain's 1012 close (the follower resumes by
 * seq). Redis restart, and outside any fault: nothing.
 */
function judgeErrors(run: ChaosRun, errors: ClientError[]): string[] {
  const over: string[] = [];
  const closesIn = new Map<string, number>();
  for (const error of errors) {
    const fault = windowOf(error, run.faults, FAULT_TAIL_MS);
    const when = `${error.kind} ${error.cause} at +${error.at - run.t0}–${error.endedAt - run.t0} ms (${error.detail.slice(0, 160)})`;
    if (fault?.kind === 'kill') {
      if (error.kind === 'send' && error.at <= fault.deadAt! && error.endedAt >= fault.start) continue;
      if (error.kind === 'socket') {
        closesIn.set(fault.name, (closesIn.get(fault.name) ?? 0) + 1);
        continue;
      }
      over.push(`${when}, after ${fault.name} (not in flight on it when it died)`);
    } else if (fault?.kind === 'sigterm') {
      if (error.kind === 'socket' && error.cause === 'close 1012') {
        closesIn.set(fault.name, (closesIn.get(fault.name) ?? 0) + 1);
        continue;
      }
      over.push(`${when}, during ${fault.name}`);
    } else over.push(`${when}, ${fault ? `during ${fault.name}` : 'outside any fault'}`);
  }
  for (const fault of run.faults) {
    const closes = closesIn.get(fault.name) ?? 0;
    if (fault.openBefore !== undefined && closes > fault.openBefore) over.push(`${closes} sockets closed after ${fault.name}, but only ${fault.openBefore} were open on it`);
  }
  return over;
}
