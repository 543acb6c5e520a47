/**
 * 9c. Abuse: honest fan-out while one abuser floods every write it can (issue 11, finding 2: only
 * sendMessage was limited). Subscribers of a public room receive messages from members who send
 * in turn; in the attacked steps one abuser (one session, one address, another load-client
 * process) floods sends of the largest body into that room, edits and deletes of its messages,
 * joins and leaves of the room, typing in it, room creations and session creations, each with a
 * few requests in flight, retried as soon as answered. Quiet and attacked steps alternate
 * (quiet-attack, then attack-quiet); the table's "bare ws" column holds the quiet figure here.
 *
 * The node runs with every limit at its default, the send limit included: the honest rate is
 * spread over 50 members (each sends one message a second, under the default 2/s), and the 500
 * subscribers share 100 sessions, so the honest setup stays under the default 300 sessions per
 * address (everything comes from 127.0.0.1). The abuser's session is made before the flood, which
 * spends that address's session budget.
 */
import { createSession, type Session } from '../load/http.js';
import type { PublishResult } from '../load/protocol.js';
import type { StartAttackResult } from '../load/abuseProtocol.js';
import { fmt, ratio, verdict, type Row } from '../table.js';
import type { Scenario, ScenarioContext } from './context.js';
import { describeAttack, measuredStep, withAbuseNode } from './abuseNode.js';
import { openSubscribers } from './phases.js';

const KEY = 'abuse-flood';

function sizes(ctx: ScenarioContext) {
  const common = { rate: 50, publishers: 50, subscriberSessions: 100, inFlightPerWrite: 8, bodyChars: 4_000 };
  return ctx.cfg.quick ? { ...common, subscribers: 200, ms: 3_000, rounds: 1 } : { ...common, subscribers: 500, ms: 10_000, rounds: 2 };
}

interface Pooled {
  window: number;
  delivered: number;
  lost: number;
  publishErrors: number;
  firstError?: string;
  p50: number[];
  p99: number[];
  steps: number;
}

const empty = (): Pooled => ({ window: 0, delivered: 0, lost: 0, publishErrors: 0, p50: [], p99: [], steps: 0 });

function pool(into: Pooled, r: PublishResult, ms: number): void {
  into.window += (r.deliveriesPerSecond * ms) / 1000;
  into.delivered += r.delivered;
  into.lost += r.lost;
  into.publishErrors += r.publishErrors;
  into.firstError ??= r.firstError;
  into.p50.push(r.latency.p50);
  into.p99.push(r.latency.p99);
  into.steps++;
}

const mean = (xs: number[]): number | undefined => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);

export const abuseFloodScenario: Scenario = async (ctx) => {
  const s = sizes(ctx);
  const label = 'abuse flood';
  const result = await withAbuseNode(ctx, label, {}, async (node) => {
    const url = node.server.url;
    const { roomId } = await node.honest.call<{ roomId: string }>({ cmd: 'prepareRoom', url, key: KEY, publishers: s.publishers }, 120_000);
    await node.honest.call({ cmd: 'createSessions', url, key: KEY, count: s.subscriberSessions }, 120_000);
    await openSubscribers(ctx, label, node.honest, { url, key: KEY, count: s.subscribers });
    // One abuser session per round, made now: the flood's createSession spends the address's budget.
    const abusers: Session[] = [];
    for (let r = 0; r < s.rounds; r++) abusers.push(await createSession(url, `abuser ${r}`));
    const publish = (phase: string) =>
      node.honest.call<PublishResult>({ cmd: 'publish', key: KEY, phase, ratePerSecond: s.rate, durationMs: s.ms, drainMs: 10_000 }, s.ms + 60_000);
    await publish('warmup');
    const quiet = empty();
    const attacked = empty();
    for (let round = 0; round < s.rounds; round++) {
      for (const underAttack of round % 2 === 0 ? [false, true] : [true, false]) {
        const step = `${label} / round ${round + 1} / ${underAttack ? 'attacked' : 'quiet'}`;
        const attack = async () => {
          const started = await node.attacker.call<StartAttackResult>(
            {
              cmd: 'startAttack',
              attack: { kind: 'writeFlood', url, token: abusers[round]!.token, roomId, inFlightPerWrite: s.inFlightPerWrite, bodyChars: s.bodyChars },
              maxMs: s.ms + 30_000,
              maxRequests: 10_000_000,
            },
            60_000,
          );
          ctx.log(`${step}: abuser started (${started.loops} request loops)`);
        };
        const r = await measuredStep(ctx, step, node, underAttack ? attack : undefined, () => publish(`${underAttack ? 'attacked' : 'quiet'}-${round}`));
        pool(underAttack ? attacked : quiet, r.result, s.ms);
        const p = r.result;
        ctx.log(`${step}: ${fmt(p.deliveriesPerSecond)} honest deliveries/s (offered ${fmt(s.rate * p.subscribers)}/s), p50 ${fmt(p.latency.p50, 1)} ms, p99 ${fmt(p.latency.p99, 1)} ms, lost ${p.lost}`);
        if (r.attack) ctx.notes.push(`${step}: the abuser: ${describeAttack(r.attack)}`);
        if (p.lost || p.publishErrors || p.subscriberErrors) {
          ctx.notes.push(`${step}: published ${p.published} (${p.publishErrors} refused${p.firstError ? `, first: ${p.firstError}` : ''}) to ${p.subscribers} subscribers; lost ${p.lost}, subscriptions ended ${p.subscriberErrors}`);
        }
      }
    }
    await node.honest.call({ cmd: 'closeAll', key: KEY }, 30_000);
    return { quiet, attacked };
  });
  ctx.notes.push(
    `abuse flood: ${fmt(s.subscribers)} subscribers (${s.subscriberSessions} sessions) of one public room, ${s.rate} msg/s for ${s.ms / 1000} s per step from ${s.publishers} members in turn; ` +
      `attacked steps: one abuser floods sendMessage (${fmt(s.bodyChars)}-character bodies), editMessage, deleteMessage, joinRoom/leaveRoom, setTyping (all in that room), createRoom over one WebSocket and createSession over HTTP, ` +
      `${s.inFlightPerWrite} in flight per write; every limit at its default (RATE_LIMIT_MESSAGES=20 per 10 s); ${s.rounds} round(s) of quiet + attacked steps (order alternating); ` +
      `deliveries/s counts the honest messages received while publishing ran; the "bare ws" column is the quiet figure.`,
  );
  const q = result?.quiet;
  const a = result?.attacked;
  const perSecond = (p?: Pooled): number | undefined => (p?.steps ? p.window / ((p.steps * s.ms) / 1000) : undefined);
  const [aps, qps] = [perSecond(a), perSecond(q)];
  const offered = s.rate * s.subscribers;
  if (qps !== undefined && qps < 0.95 * offered) {
    ctx.notes.push(`abuse flood: even quiet, ${fmt(qps)} of the ${fmt(offered)} deliveries/s offered arrived while publishing ran: the node (or the machine) was saturated, so the ratio compares saturated figures`);
  }
  const latency = (p?: Pooled): string => (p?.steps ? `${fmt(mean(p.p50), 1)} / ${fmt(mean(p.p99), 1)}` : '—');
  const scenario = `9c. abuse: fan-out ${fmt(s.subscribers)} subs @${s.rate} msg/s, one abuser flooding every write`;
  const rows: Row[] = [
    { scenario, metric: 'honest deliveries/s (attacked | quiet)', roomlog: fmt(aps), bare: fmt(qps), ratio: ratio(aps, qps), target: '≥ 0.9× quiet', result: aps !== undefined && qps !== undefined ? verdict(aps >= 0.9 * qps) : '' },
    { scenario, metric: 'honest latency p50 / p99 ms', roomlog: latency(a), bare: latency(q), ratio: ratio(mean(a?.p99 ?? []), mean(q?.p99 ?? [])), target: '', result: '' },
    {
      scenario,
      metric: 'honest lost / sends refused',
      roomlog: a ? `${fmt(a.lost)} / ${fmt(a.publishErrors)}` : '—',
      bare: q ? `${fmt(q.lost)} / ${fmt(q.publishErrors)}` : '—',
      ratio: '',
      target: '0 / 0',
      result: a && q ? verdict(a.lost + q.lost + a.publishErrors + q.publishErrors === 0 && a.steps > 0) : '',
    },
  ];
  return rows;
};
