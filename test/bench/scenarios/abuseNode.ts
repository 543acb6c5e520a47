/**
 * What the abuse rows share: one roomlog node started as a user would, with its limits ON (the
 * bench's other scenarios start nodes with RATE_LIMIT_MESSAGES=0, which turns every limit off),
 * an honest load client and a separate attacker load client; and how an attack is told in the notes.
 */
import { withCpuOf } from '../cluster.js';
import type { AttackResult } from '../load/abuseProtocol.js';
import { startLoadClient, type LoadClient } from '../loadProcess.js';
import { startServer, type ServerHandle } from '../serverProcess.js';
import { fmt } from '../table.js';
import { serverEnv, troubleLines, type ScenarioContext } from './context.js';

export interface AbuseNode {
  server: ServerHandle;
  honest: LoadClient;
  attacker: LoadClient;
  pids: Record<string, number>;
}

/**
 * Runs `fn` against a fresh node started with `env` over the node's own defaults (never
 * RATE_LIMIT_MESSAGES=0); stops everything afterwards. A failure becomes a note and `undefined`.
 */
export async function withAbuseNode<T>(ctx: ScenarioContext, label: string, env: Record<string, string>, fn: (node: AbuseNode) => Promise<T>): Promise<T | undefined> {
  if (!ctx.cfg.kinds.includes('roomlog')) {
    ctx.notes.push(`${label}: skipped (it measures roomlog against itself, and roomlog is not among --servers)`);
    return undefined;
  }
  let server: ServerHandle | undefined;
  const clients: LoadClient[] = [];
  try {
    // The node's defaults for the send limit, unless `env` says otherwise: startServer's '0' would turn every limit off.
    const limitsOn = { RATE_LIMIT_MESSAGES: '20', RATE_LIMIT_WINDOW_MS: '10000', ...env };
    server = await startServer('roomlog', { dataDir: ctx.tmpDir(label.replace(/\W+/g, '-')), env: { ...serverEnv(ctx, 'roomlog'), ...limitsOn }, serverRoot: ctx.cfg.serverRoot });
    ctx.log(`${label}: roomlog listening at ${server.url} (pid ${server.pid}) with ${Object.entries(limitsOn).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    const honest = startLoadClient();
    clients.push(honest);
    const attacker = startLoadClient();
    clients.push(attacker);
    const result = await fn({ server, honest, attacker, pids: { node: server.pid, honest: honest.pid, attacker: attacker.pid } });
    for (const l of troubleLines(server)) ctx.notes.push(`${label} server log: ${l}`);
    return result;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    ctx.notes.push(`${label}: FAILED: ${msg.split('\n').slice(0, 12).join('\n    ')}`);
    if (server) ctx.notes.push(`  last server output:\n    ${server.output.slice(-8).join('\n    ')}`);
    ctx.log(`${label}: failed: ${msg.split('\n')[0]}`);
    return undefined;
  } finally {
    const ended = server?.unexpectedEnd();
    if (ended) {
      ctx.notes.push(`${label}: WARNING: server pid ${server!.pid} ${ended}; figures of this step are not valid`);
      ctx.log(`${label}: server ${ended}`);
    }
    for (const c of clients) await c.stop();
    await server?.stop();
  }
}

/** A measured step, the attack (if any) started before it and stopped after it, under CPU accounting. */
export async function measuredStep<T>(
  ctx: ScenarioContext,
  label: string,
  node: AbuseNode,
  attack: (() => Promise<unknown>) | undefined,
  step: () => Promise<T>,
): Promise<{ result: T; attack?: AttackResult; cores: Record<string, number>; other: number }> {
  const { result, cores, other } = await withCpuOf(ctx, label, node.pids, async () => {
    if (!attack) return { value: await step(), attack: undefined };
    await attack();
    let stopped: AttackResult | undefined;
    let value: T;
    try {
      value = await step();
    } finally {
      // Stopped whatever the step did: an attack must never outlive its step.
      stopped = await node.attacker.call<AttackResult>({ cmd: 'stopAttack' }, 60_000);
      ctx.log(`${label}: attack stopped: ${describeAttack(stopped)}`);
    }
    return { value, attack: stopped };
  });
  return { result: result.value, attack: result.attack, cores, other };
}

/** `12,345 requests (4,321/s, ended by stop): joinRoom: RATE_LIMITED (…) 12,000, joinRoom: FORBIDDEN 345`. */
export function describeAttack(a: AttackResult): string {
  const outcomes = Object.entries(a.outcomes)
    .map(([k, n]) => `${k} ${fmt(n)}`)
    .join(', ');
  return `${fmt(a.requests)} requests in ${fmt(a.elapsedMs / 1000, 1)} s (${fmt(a.perSecond)}/s, ended by ${a.endedBy}): ${outcomes}`;
}

/** The `p`-th percentile (nearest rank) of raw samples. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
