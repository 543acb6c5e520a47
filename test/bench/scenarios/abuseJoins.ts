/**
 * 9b. Abuse: a member's send latency in a private room while 150 wrong-password joins of it are
 * always in flight (issue 11, finding 3: each scrypt ran inside the room's command queue, and the
 * owner's send took 6.1 s instead of 5 ms). The member sends one message at a time over its
 * WebSocket; the guessers (fresh sessions, another load-client process) each keep one join in
 * flight and guess again as soon as they are answered. Quiet and attacked steps alternate
 * (quiet-attack, then attack-quiet), so machine noise falls on both; the table's "bare ws" column
 * holds the quiet figure here.
 *
 * Two nodes, one after the other:
 * - limits at their defaults: the guessers spread over 150 X-Forwarded-For addresses (the node
 *   trusts the loopback load client as a proxy, TRUST_PROXY=loopback), so the per-address delay
 *   does not stop them; the per-room and per-user delays and the join limit do.
 * - every guess reaches scrypt: the wrong-password delays and the join limit set out of reach, so
 *   only the bound on password checks at once (PASSWORD_CHECKS_AT_ONCE/QUEUED) stands between the
 *   flood and the node: the worst the node can be made to do.
 * In both the send budget is raised (RATE_LIMIT_MESSAGES=1000000 per 1 s): the member sends every
 * 40 ms, past the default budget of 2/s, and nobody else sends. Every other limit stays on.
 */
import { createSession, gqlHttp } from '../load/http.js';
import type { MemberSendsResult, StartAttackResult } from '../load/abuseProtocol.js';
import { fmt, ratio, verdict, type Row } from '../table.js';
import type { Scenario, ScenarioContext } from './context.js';
import { describeAttack, measuredStep, percentile, withAbuseNode } from './abuseNode.js';

const CREATE_PRIVATE_ROOM = 'mutation($name: String!, $password: String) { createRoom(name: $name, password: $password) { id } }';

interface Variant {
  name: string;
  env: Record<string, string>;
}

const SEND_BUDGET = { RATE_LIMIT_MESSAGES: '1000000', RATE_LIMIT_WINDOW_MS: '1000', TRUST_PROXY: 'loopback' };
const OUT_OF_REACH = '1000000000';
const VARIANTS: Variant[] = [
  { name: 'limits at defaults', env: SEND_BUDGET },
  {
    name: 'every guess reaches scrypt',
    env: {
      ...SEND_BUDGET,
      PASSWORD_FAILURES_PER_USER: OUT_OF_REACH,
      PASSWORD_FAILURES_PER_ROOM: OUT_OF_REACH,
      PASSWORD_FAILURES_PER_ADDRESS: OUT_OF_REACH,
      RATE_LIMIT_JOINS: `${OUT_OF_REACH}/1s`,
    },
  },
];

function sizes(ctx: ScenarioContext) {
  return ctx.cfg.quick
    ? { attackers: 150, sendsPerStep: 60, rounds: 1, spacingMs: 40, warmupSends: 20 }
    : { attackers: 150, sendsPerStep: 100, rounds: 2, spacingMs: 40, warmupSends: 40 };
}

interface VariantResult {
  quiet: number[];
  attacked: number[];
  sendErrors: number;
  firstSendError?: string;
  guessesLetIn: number;
}

async function runVariant(ctx: ScenarioContext, v: Variant): Promise<VariantResult | undefined> {
  const s = sizes(ctx);
  const label = `abuse joins / ${v.name}`;
  return withAbuseNode(ctx, label, v.env, async (node) => {
    const url = node.server.url;
    const member = await createSession(url, 'member');
    const { createRoom } = await gqlHttp<{ createRoom: { id: string } }>(url, CREATE_PRIVATE_ROOM, { name: 'private', password: 'correct horse battery' }, member.token);
    const roomId = createRoom.id;
    const sends = (tag: string, count: number) =>
      node.honest.call<MemberSendsResult>({ cmd: 'memberSends', url, token: member.token, roomId, count, spacingMs: s.spacingMs, tag }, count * s.spacingMs + 120_000);
    await sends('warmup', s.warmupSends);
    const out: VariantResult = { quiet: [], attacked: [], sendErrors: 0, guessesLetIn: 0 };
    for (let round = 0; round < s.rounds; round++) {
      for (const attacked of round % 2 === 0 ? [false, true] : [true, false]) {
        const step = `${label} / round ${round + 1} / ${attacked ? 'attacked' : 'quiet'}`;
        const attack = async () => {
          const started = await node.attacker.call<StartAttackResult>(
            {
              cmd: 'startAttack',
              attack: { kind: 'passwordGuessing', url, roomId, attackers: s.attackers, spreadAddresses: true, round },
              maxMs: s.sendsPerStep * s.spacingMs + 60_000,
              maxRequests: 5_000_000,
            },
            120_000,
          );
          ctx.log(`${step}: ${started.loops} guessers started (sessions made in ${fmt(started.setupMs)} ms)`);
        };
        const r = await measuredStep(ctx, step, node, attacked ? attack : undefined, () => sends(`r${round}-${attacked ? 'a' : 'q'}`, s.sendsPerStep));
        (attacked ? out.attacked : out.quiet).push(...r.result.latenciesMs);
        out.sendErrors += r.result.errors;
        out.firstSendError ??= r.result.firstError;
        ctx.log(`${step}: member send p50 ${fmt(percentile(r.result.latenciesMs, 50), 1)} ms, p99 ${fmt(percentile(r.result.latenciesMs, 99), 1)} ms, ${r.result.errors} refused`);
        if (r.attack) {
          // The node's CPU per answer tells its own cost apart from what the machine's load adds to the wait.
          const perGuess = (r.cores.node! * r.attack.elapsedMs) / Math.max(1, r.attack.requests);
          ctx.notes.push(`${step}: ${s.attackers} guessers: ${describeAttack(r.attack)}; node ${r.cores.node!.toFixed(2)} cores, ≈ ${fmt(perGuess, 2)} ms of node CPU per answer`);
          out.guessesLetIn += r.attack.outcomes['joinRoom: ok'] ?? 0;
        }
      }
    }
    if (out.sendErrors) ctx.notes.push(`${label}: ${out.sendErrors} member sends refused; first: ${out.firstSendError}`);
    return out;
  });
}

export const abuseJoinsScenario: Scenario = async (ctx) => {
  const s = sizes(ctx);
  ctx.notes.push(
    `abuse joins: one member sends ${s.sendsPerStep} messages per step, one at a time, one every ${s.spacingMs} ms, in a private room; ` +
      `attacked steps: ${s.attackers} fresh sessions (another load-client process) each keep one wrong-password joinRoom of that room in flight over HTTP, ` +
      `each from its own X-Forwarded-For address; ${s.rounds} round(s) of quiet + attacked steps (order alternating); the "bare ws" column is the quiet figure, the ratio attacked ÷ quiet. ` +
      `Node settings: ${Object.entries(SEND_BUDGET).map(([k, v]) => `${k}=${v}`).join(' ')} (only the member sends; every other limit at its default); ` +
      `"every guess reaches scrypt" also sets PASSWORD_FAILURES_PER_USER/ROOM/ADDRESS=${OUT_OF_REACH} and RATE_LIMIT_JOINS=${OUT_OF_REACH}/1s.`,
  );
  const rows: Row[] = [];
  for (const v of VARIANTS) {
    const r = await runVariant(ctx, v);
    const scenario = `9b. abuse: member's send, ${s.attackers} wrong-password joins (${v.name})`;
    const q = (xs: number[] | undefined, p: number): number | undefined => (xs?.length ? percentile(xs, p) : undefined);
    const [a50, q50, a99, q99] = [q(r?.attacked, 50), q(r?.quiet, 50), q(r?.attacked, 99), q(r?.quiet, 99)];
    rows.push(
      { scenario, metric: 'send p50 ms (attacked | quiet)', roomlog: fmt(a50, 1), bare: fmt(q50, 1), ratio: ratio(a50, q50), target: '', result: '' },
      {
        scenario,
        metric: 'send p99 ms (attacked | quiet)',
        roomlog: fmt(a99, 1),
        bare: fmt(q99, 1),
        ratio: ratio(a99, q99),
        target: '≤ 3× quiet',
        result: a99 !== undefined && q99 !== undefined ? verdict(a99 <= 3 * q99) : '',
      },
      {
        scenario,
        metric: 'guesses let in / member sends refused',
        roomlog: r ? `${fmt(r.guessesLetIn)} / ${fmt(r.sendErrors)}` : '—',
        bare: '',
        ratio: '',
        target: '0 / 0',
        result: r ? verdict(r.guessesLetIn === 0 && r.sendErrors === 0 && r.attacked.length > 0) : '',
      },
    );
  }
  return rows;
};
