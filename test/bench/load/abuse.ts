/**
 * The load client's side of the abuse rows: an honest member's timed sends, and one attack at a
 * time per load-client process, started before a measured step and stopped after it.
 */
import type { AbuseRequest, AttackResult, MemberSendsRequest, MemberSendsResult, StartAttackResult } from './abuseProtocol.js';
import { AttackRun } from './attackRun.js';
import { GqlSocket } from './gqlSocket.js';
import { startPasswordGuessing } from './passwordGuessing.js';
import type { LoadRequest } from './protocol.js';
import { sleep } from './stats.js';
import { startWriteFlood } from './writeFlood.js';

const SEND = 'mutation($roomId: ID!, $body: String!, $cid: ID!) { sendMessage(roomId: $roomId, body: $body, clientMessageId: $cid) { seq } }';

export function isAbuseRequest(req: LoadRequest): req is AbuseRequest {
  return req.cmd === 'memberSends' || req.cmd === 'startAttack' || req.cmd === 'stopAttack';
}

/**
 * The member's socket, opened once (at the warm-up) and kept across steps, as a chat client keeps
 * it: an attacked step measures the member's sends, not whether a new socket gets through.
 */
const memberSockets = new Map<string, GqlSocket>();

async function memberSocket(url: string, token: string): Promise<GqlSocket> {
  const key = `${url} ${token}`;
  const open = memberSockets.get(key);
  if (open?.isOpen) return open;
  const sock = await GqlSocket.connect(url.replace(/^http/, 'ws'), token);
  memberSockets.set(key, sock);
  return sock;
}

/** Sequential sends on the member's socket, each timed from request to acknowledgement. */
async function memberSends(req: MemberSendsRequest): Promise<MemberSendsResult> {
  const sock = await memberSocket(req.url, req.token);
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  for (let k = 0; k < req.count; k++) {
    const due = start + k * req.spacingMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const t0 = performance.now();
    try {
      const r = await sock.operation(SEND, { roomId: req.roomId, body: `member ${req.tag} #${k}`, cid: `${req.tag}-${k}` });
      if (r.errors?.length || !r.data) throw new Error(JSON.stringify(r.errors ?? r).slice(0, 300));
      latenciesMs.push(performance.now() - t0);
    } catch (e) {
      errors++;
      firstError ??= e instanceof Error ? e.message : String(e);
      if (!sock.isOpen) break;
    }
  }
  return { latenciesMs, errors, firstError, elapsedMs: performance.now() - start };
}

let current: { run: AttackRun; cleanup: () => void } | undefined;

export async function handleAbuse(req: AbuseRequest): Promise<MemberSendsResult | StartAttackResult | AttackResult> {
  switch (req.cmd) {
    case 'memberSends':
      return memberSends(req);
    case 'startAttack': {
      if (current) throw new Error('an attack is already running in this load client: stopAttack first');
      const t0 = performance.now();
      const run = new AttackRun(req.maxMs, req.maxRequests);
      const cleanup = req.attack.kind === 'passwordGuessing' ? (await startPasswordGuessing(req.attack, run), () => undefined) : await startWriteFlood(req.attack, run);
      current = { run, cleanup };
      return { loops: run.loopCount, setupMs: performance.now() - t0 };
    }
    case 'stopAttack': {
      if (!current) throw new Error('no attack is running');
      const { run, cleanup } = current;
      current = undefined;
      const result = await run.stop();
      cleanup();
      return result;
    }
  }
}
