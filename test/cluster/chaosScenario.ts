/**
 * The chaos scenario (chaos.e2e.test.ts), run either direct to the nodes or through the balancer:
 * 3 nodes, light clients in a few rooms, each following its room and sending to it, every send
 * retried with the same clientMessageId until acknowledged — while one node is killed with -9,
 * Redis is killed and restarted, and another node is SIGTERMed (replacements start on the same
 * DATA_DIR; through the balancer, on the same port, so its static BACKENDS list stays right).
 *
 * Direct, a client picks a live node itself and a follower whose node goes away resumes on
 * another with its last seq. Through the balancer, clients know only the balancer: every request,
 * every resume goes to it, and whatever fails reaches the client as it would a user.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRoom, createUser, joinRoom, pool, readLog, sleep, type RoomEventInfo, type UserSession } from '../support/gql.js';
import type { NodeHandle } from '../support/nodeProcess.js';
import { freePort } from '../support/redisServer.js';
import { RoomFollower, isAlive, nodeId, sendUntilAcked, startCluster, waitForExit, type Acked, type Cluster, type SendAttempt } from '../support/cluster.js';
import { backendOf, startBalancer, viaBalancer, type BalancerHandle } from '../support/balancerProcess.js';
import { causeOf, closeCause, type ClientError, type FaultWindow } from '../support/clientErrors.js';
import { projectorLeaseKey } from '../../src/readModels/redisReadModelLayout.js';

export interface ChaosPlan {
  /** NODE_ID prefix of this run's nodes. */
  name: string;
  viaBalancer: boolean;
  rooms: number;
  clients: number;
  perClient: number;
  /** Sends are paced evenly over this span. */
  spanMs: number;
  /** When each fault strikes, in ms from the first send. */
  killAt: number;
  redisAt: number;
  sigtermAt: number;
  redisDownMs: number;
  /** More environment for every node, e.g. EVENT_STORE for the PostgreSQL run (chaos.postgres.e2e.test.ts). */
  env?: Record<string, string>;
}

export interface Fault extends FaultWindow {
  kind: 'kill' | 'redis' | 'sigterm';
  note: string;
  /** kill -9: when its exit was seen (it died between `start` and this). */
  deadAt?: number;
  /** Connections open on the node when it went: its followers (direct), or the balancer's count. */
  openBefore?: number;
}

export interface ChaosClient {
  index: number;
  user: UserSession;
  roomId: string;
  follower: RoomFollower;
  sends: Array<{ clientMessageId: string; firstAt: number; acked?: Acked; attempts: SendAttempt[]; error?: string }>;
}

export interface ChaosRun {
  plan: ChaosPlan;
  cluster: Cluster;
  balancer: BalancerHandle | null;
  owner: UserSession;
  roomIds: string[];
  clients: ChaosClient[];
  faults: Fault[];
  /** When the setup began, and when the first send went. */
  setupAt: number;
  t0: number;
  /** From the first send until the last was acknowledged. */
  sendingMs: number;
  /** The SIGTERMed node's exit. */
  drainExit: { code: number | null; signal: string | null; ms: number };
  /** Each room's whole log, read after the sending. */
  logs: Map<string, RoomEventInfo[]>;
}

/** Which node holds the projector lease (the one applying the log to the read models), for the report. */
async function leaseHolder(redisUrl: string): Promise<string> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  try {
    await redis.connect();
    return (await redis.get(projectorLeaseKey('roomlog:')))?.split(':')[0] ?? 'nobody';
  } catch (error) {
    return `unknown (${(error as Error).message})`;
  } finally {
    redis.disconnect();
  }
}

/** Sets the cluster (and balancer) up, sends through the faults, and waits (bounded) for every follower to reach its room's head. */
export async function runChaos(plan: ChaosPlan): Promise<ChaosRun> {
  const setupAt = Date.now();
  // Through the balancer, the nodes' ports are chosen first so that the balancer (`npm run
  // balancer` with BACKENDS = the nodes; health checked twice a second, as in the other balancer
  // tests) starts alongside them.
  const ports = plan.viaBalancer ? [await freePort(), await freePort(), await freePort()] : undefined;
  const [cluster, balancer] = await Promise.all([
    startCluster({ nodes: 3, name: plan.name, env: { RATE_LIMIT_MESSAGES: '0', ...plan.env }, ports }),
    ports ? startBalancer({ env: { BACKENDS: ports.map((port) => `http://127.0.0.1:${port}`).join(','), HEALTH_INTERVAL_MS: '500' } }) : null,
  ]);
  await balancer?.waitForBackends((list) => list.length === 3 && list.every((b) => b.ready), 15_000, 'every node ready');
  const nodes = cluster.nodes;
  const entry = balancer ? viaBalancer(balancer) : null;
  const leaving = new Set<NodeHandle>();
  const usable = () => cluster.live().filter((node) => !leaving.has(node));
  /** Through the balancer: the balancer. Direct: a usable node other than `avoid` (any usable one if there is no other). */
  const pick = (avoid: NodeHandle | null): NodeHandle | undefined => {
    if (entry) return entry;
    const candidates = usable();
    const others = candidates.filter((node) => node !== avoid);
    const from = others.length ? others : candidates;
    return from[Math.floor(Math.random() * from.length)];
  };
  const home = (index: number) => entry ?? nodes[index % 3]!;

  // ---- setup: rooms, users, followers (each from seq 0) ----------------------------------------
  const owner = await createUser(home(0).url, 'owner');
  const roomIds: string[] = [];
  for (let r = 0; r < plan.rooms; r++) roomIds.push((await createRoom(home(r).url, owner.token, `chaos ${r}`)).id);
  const clients: ChaosClient[] = await pool(plan.clients, 10, async (index) => {
    const user = await createUser(home(index).url, `client-${index}`);
    const roomId = roomIds[index % plan.rooms]!;
    await joinRoom(home(index).url, user.token, roomId);
    return { index, user, roomId, follower: new RoomFollower(user.token, roomId, pick), sends: [] };
  });
  await pool(plan.clients, 10, (i) => clients[i]!.follower.connect(home(i), 0));

  // ---- sending, paced over spanMs, retried until acknowledged ----------------------------------
  const t0 = Date.now();
  const deadline = t0 + plan.spanMs + 60_000;
  const interval = plan.spanMs / plan.perClient;
  let sendingMs = 0;
  const sending = Promise.all(
    clients.map(async (client) => {
      for (let i = 0; i < plan.perClient; i++) {
        // Part of the scenario: sends paced evenly over spanMs.
        await sleep(t0 + i * interval + (client.index / plan.clients) * interval - Date.now());
        const send: ChaosClient['sends'][number] = { clientMessageId: randomUUID(), firstAt: Date.now(), attempts: [] };
        client.sends.push(send);
        const current = client.follower.node;
        try {
          send.acked = await sendUntilAcked({
            first: entry ?? (current && isAlive(current) && !leaving.has(current) ? current : pick(null)!),
            next: (failed) => pick(failed),
            token: client.user.token,
            roomId: client.roomId,
            body: `client ${client.index} message ${i}`,
            clientMessageId: send.clientMessageId,
            deadline,
          });
          send.attempts = send.acked.attempts;
        } catch (error) {
          send.error = (error as Error).message;
          send.attempts = (error as { attempts?: SendAttempt[] }).attempts ?? [];
        }
      }
    }),
  ).then(() => void (sendingMs = Date.now() - t0));

  // ---- faults ----------------------------------------------------------------------------------
  const faults: Fault[] = [];
  // Part of the scenario: each fault at its set time into the sending.
  const at = (ms: number) => sleep(t0 + ms - Date.now());
  const followersOn = (node: NodeHandle) => clients.map((c) => c.follower).filter((f) => f.node === node);
  /** Connections open on `node` right now: its followers (direct), or what the balancer has open there. */
  const openOn = async (node: NodeHandle) => (balancer ? (backendOf(await balancer.backends(), node)?.open ?? 0) : followersOn(node).length);
  /**
   * Waits (bounded) until the followers `gone` took with it have subscribed again, and says how
   * long that took. Direct, those are the ones that were on it (`before`); through the balancer,
   * once it has nothing left open there, those whose socket closed since `since`.
   */
  const resumed = async (gone: NodeHandle, since: number, before: RoomFollower[]) => {
    let affected = before;
    if (balancer) {
      await balancer
        .waitForBackends((list) => backendOf(list, gone)?.ready === false && backendOf(list, gone)?.open === 0, 10_000, `nothing open on ${nodeId(gone)}`)
        .catch(() => {});
      affected = clients.map((c) => c.follower).filter((f) => f.closes.some((c) => c.at >= since));
    }
    for (let i = 0; i < 300 && !affected.every((f) => f.subscriptions.some((s) => s.at > since)); i++) await sleep(50);
    const ms = Math.max(0, ...affected.map((f) => f.subscriptions.find((s) => s.at > since)?.at ?? Number.NaN)) - since;
    const codes = new Set(affected.flatMap((f) => f.closes.filter((c) => c.at >= since).map((c) => c.code)));
    return `${affected.length} followers closed (${[...codes].join('/') || '-'}) and resumed within ${ms} ms`;
  };
  /**
   * A replacement on the same DATA_DIR (through the balancer, on the gone node's port), started
   * without waiting for it: the next fault keeps its time, as faults do not wait for a recovery.
   */
  const replacements: Array<Promise<Error | null>> = [];
  const replace = (gone: NodeHandle) => {
    const started = cluster.addNode(balancer ? gone.port : undefined);
    const inRotation = started.then((next) => balancer?.waitForBackends((list) => backendOf(list, next)?.ready === true, 20_000, `${nodeId(next)} in rotation`));
    // Settled into a value at once, so a failure waits for the end of the sending to be thrown.
    replacements.push(inRotation.then(() => null, (error: unknown) => error as Error));
  };

  await at(plan.killAt);
  const victim = nodes[0]!;
  let openBefore = await openOn(victim);
  let before = followersOn(victim);
  let lease = await leaseHolder(cluster.redis.url);
  let start = Date.now();
  await victim.kill();
  const deadAt = Date.now();
  let note = await resumed(victim, start, before);
  faults.push({ kind: 'kill', name: `kill -9 ${nodeId(victim)}`, start, end: Date.now(), deadAt, openBefore, note: `${openBefore} open on it; ${note}; lease held by ${lease}` });
  replace(victim);

  await at(plan.redisAt);
  start = Date.now();
  await cluster.redis.kill();
  await sleep(plan.redisDownMs); // part of the scenario: how long Redis is down
  await cluster.redis.restart();
  faults.push({ kind: 'redis', name: 'Redis restart', start, end: Date.now(), note: `down ${Date.now() - start} ms` });

  await at(plan.sigtermAt);
  const drained = cluster.live().find((node) => node !== cluster.nodes.at(-1))!;
  openBefore = await openOn(drained);
  before = followersOn(drained);
  lease = await leaseHolder(cluster.redis.url);
  start = Date.now();
  leaving.add(drained);
  drained.process.kill('SIGTERM');
  const drainExit = await waitForExit(drained, 10_000);
  note = await resumed(drained, start, before);
  faults.push({ kind: 'sigterm', name: `SIGTERM ${nodeId(drained)}`, start, end: Date.now(), openBefore, note: `exit ${drainExit.code} after ${drainExit.ms} ms; ${openBefore} open on it; ${note}; lease held by ${lease}` });
  replace(drained);

  await sending;
  const failedReplacement = (await Promise.all(replacements)).find((error) => error !== null);
  if (failedReplacement) throw failedReplacement;

  // ---- settle: every follower reaches its room's head (bounded) --------------------------------
  const reader = entry ?? usable()[0]!;
  const logs = new Map<string, RoomEventInfo[]>();
  for (const roomId of roomIds) logs.set(roomId, await readLog(reader.url, owner.token, roomId));
  await Promise.all(clients.map((c) => c.follower.waitForSeq(logs.get(c.roomId)!.at(-1)!.seq, 30_000).catch(() => {})));
  // Under test: anything extra (a late duplicate) would show up in this window.
  await sleep(500);
  return { plan, cluster, balancer, owner, roomIds, clients, faults, setupAt, t0, sendingMs, drainExit, logs };
}

/** Everything a client of this run saw fail: send attempts, closes under followers, subscription failures. */
export function clientErrors(run: ChaosRun): ClientError[] {
  const errors: ClientError[] = [];
  for (const client of run.clients) {
    for (const attempt of client.sends.flatMap((s) => s.attempts)) {
      if (attempt.outcome === 'ok') continue;
      const detail = `to ${attempt.node} after ${attempt.ms} ms: ${attempt.outcome}`;
      errors.push({ at: attempt.at, endedAt: attempt.at + attempt.ms, cause: causeOf(attempt.outcome), kind: 'send', detail });
    }
    for (const close of client.follower.closes) {
      errors.push({ at: close.at, endedAt: close.at, cause: closeCause(close.code), kind: 'socket', detail: `from ${close.node}: ${close.reason}` });
    }
    for (const failure of client.follower.failureLog) errors.push({ at: failure.at, endedAt: failure.at, cause: causeOf(failure.text), kind: 'subscribe', detail: failure.text });
  }
  return errors;
}
