/**
 * 9a. Abuse: the node's RSS while 12 worst-case queries run at once (issue 11, finding 1: 15
 * aliases of `roomEvents(limit: 1000)` built a 60 MB answer, and twelve at once took a node to
 * 2.2 GB). One room of 4 KB messages; twelve sessions each send, at the same moment, first the
 * query of the report (refused now by the cost limit), then the dearest query the cost limit lets
 * through (two roomEvents pages of 1,000 and a messages page of 200, all with bodies: one session
 * each, so the per-user budget does not refuse them, only the node's budget and the answer-size
 * limit apply). Rounds of both, with RSS sampled every 20 ms; the "bare ws" column holds the idle
 * RSS of the same node just before (target: peak ≤ 2× idle). Limits at their defaults; only the
 * send limit is off (RATE_LIMIT_MESSAGES=0), to fill the room.
 */
import { createRoom, createSession, gqlHttp, type Session } from '../load/http.js';
import { mapLimit, sleep } from '../load/stats.js';
import { fmt, ratio, verdict, type Row } from '../table.js';
import { troubleLines, withServer, type Scenario } from './context.js';

const BODY = 'x'.repeat(3_990);
const EVENTS = 'seq ... on MessagePosted { message { id body author { id name } } }';
/** The report's query: 15 aliases of a 1,000-event page, about 60 MB of answer. */
const ATTACK = `query($roomId: ID!) { ${Array.from({ length: 15 }, (_, i) => `a${i}: roomEvents(roomId: $roomId, limit: 1000) { ${EVENTS} }`).join(' ')} }`;
/** The dearest query the default cost limit (5,000) accepts: 2 × 2,000 + 400 objects. */
const DEAREST = `query($roomId: ID!) {
  a: roomEvents(roomId: $roomId, limit: 1000) { seq ... on MessagePosted { message { body } } }
  b: roomEvents(roomId: $roomId, limit: 1000, afterSeq: 500) { seq ... on MessagePosted { message { body } } }
  c: messages(roomId: $roomId, limit: 200) { body author { name } }
}`;
const CONCURRENT = 12;

interface Outcome {
  code: string;
  bytes: number;
}

/** One query's outcome: its error code, `ok`, `HTTP 5xx`, or `no answer` (the node went away). */
async function query(url: string, token: string, text: string, roomId: string): Promise<Outcome> {
  let res: Response;
  let body: string;
  try {
    res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: text, variables: { roomId } }),
      signal: AbortSignal.timeout(120_000),
    });
    body = await res.text();
  } catch {
    return { code: 'no answer', bytes: 0 };
  }
  if (res.status >= 500) return { code: `HTTP ${res.status}`, bytes: body.length };
  const code = /"code":"([A-Z_]+)"/.exec(body)?.[1] ?? 'ok';
  return { code, bytes: body.length };
}

export const abuseQueriesScenario: Scenario = async (ctx) => {
  const { quick } = ctx.cfg;
  const messages = quick ? 1_200 : 2_000;
  const rounds = quick ? 2 : 4;
  const run = await withServer(ctx, 'roomlog', 'abuse queries', async (server) => {
    const url = server.url;
    const owner = await createSession(url, 'owner');
    const roomId = await createRoom(url, owner.token, 'big');
    const send = 'mutation($roomId: ID!, $body: String!, $c: ID!) { sendMessage(roomId: $roomId, body: $body, clientMessageId: $c) { seq } }';
    await mapLimit(
      Array.from({ length: messages }, (_, i) => i),
      8,
      (i) => gqlHttp(url, send, { roomId, body: `${i} ${BODY}`, c: `seed-${i}` }, owner.token),
    );
    const readers: Session[] = await mapLimit(
      Array.from({ length: CONCURRENT }, (_, i) => i),
      4,
      (i) => createSession(url, `reader ${i}`),
    );
    // One of each first, so code loading and first-use pools are not charged to the attack.
    await query(url, readers[0]!.token, DEAREST, roomId);
    await query(url, readers[0]!.token, ATTACK, roomId);
    await sleep(2_000);
    const idleKb = server.rssKb();
    let peakKb = idleKb;
    const sampler = setInterval(() => {
      try {
        peakKb = Math.max(peakKb, server.rssKb());
      } catch {
        // The process is gone: the step fails below.
      }
    }, 20);
    let slowestHealthMs = 0;
    let healthFailure: string | undefined;
    let probing = true;
    const health = (async () => {
      while (probing && !healthFailure) {
        const t0 = performance.now();
        try {
          await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(30_000) }).then((r) => r.text());
        } catch (e) {
          healthFailure = e instanceof Error ? `${e.message}${e.cause ? ` (${String(e.cause)})` : ''}` : String(e);
        }
        slowestHealthMs = Math.max(slowestHealthMs, performance.now() - t0);
        await sleep(50);
      }
    })();
    const outcomes: Record<string, number> = {};
    let largest = 0;
    const t0 = performance.now();
    try {
      for (let round = 0; round < rounds; round++) {
        for (const [name, text] of [['report', ATTACK], ['dearest', DEAREST]] as const) {
          const results = await Promise.all(readers.map((reader) => query(url, reader.token, text, roomId)));
          for (const r of results) {
            outcomes[`${name}: ${r.code}`] = (outcomes[`${name}: ${r.code}`] ?? 0) + 1;
            largest = Math.max(largest, r.bytes);
          }
        }
      }
    } finally {
      clearInterval(sampler);
      probing = false;
      await health;
      if (healthFailure) ctx.notes.push(`abuse queries: /healthz failed during the attack: ${healthFailure}`);
    }
    const elapsedMs = performance.now() - t0;
    for (const l of troubleLines(server)) ctx.notes.push(`abuse queries server log: ${l}`);
    ctx.log(`abuse queries: RSS idle ${fmt(idleKb / 1024, 0)} MB, peak ${fmt(peakKb / 1024, 0)} MB; ${JSON.stringify(outcomes)}`);
    return { idleKb, peakKb, outcomes, largest, slowestHealthMs, elapsedMs };
  });
  ctx.notes.push(
    `abuse queries: one room of ${fmt(messages)} messages of 4 KB; ${CONCURRENT} sessions send at once the report's query (15 aliases of roomEvents(limit: 1000) with bodies) ` +
      `and then the dearest query the cost limit accepts (2 roomEvents pages of 1,000 + 200 messages, bodies only), ${rounds} rounds of both; RSS from /proc every 20 ms; ` +
      `limits at their defaults (RATE_LIMIT_MESSAGES=0 only to fill the room). Answers: ${run ? Object.entries(run.outcomes).map(([k, n]) => `${k} ×${n}`).join(', ') : '—'}; ` +
      `largest answer ${run ? fmt(run.largest) : '—'} bytes; slowest /healthz during the attack ${run ? fmt(run.slowestHealthMs) : '—'} ms; ${run ? fmt(run.elapsedMs / 1000, 1) : '—'} s in all.`,
  );
  const scenario = `9a. abuse: ${CONCURRENT} concurrent worst-case queries`;
  const mb = (kb: number | undefined) => (kb === undefined ? undefined : kb / 1024);
  const noServerErrors = run ? !Object.keys(run.outcomes).some((k) => k.includes('HTTP') || k.includes('no answer')) : undefined;
  return [
    {
      scenario,
      metric: 'node RSS MB: peak during | idle',
      roomlog: fmt(mb(run?.peakKb), 0),
      bare: fmt(mb(run?.idleKb), 0),
      ratio: ratio(run?.peakKb, run?.idleKb),
      target: '≤ 2× idle',
      result: run ? verdict(run.peakKb <= 2 * run.idleKb && noServerErrors === true) : '',
    },
  ] satisfies Row[];
};
