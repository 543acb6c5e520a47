/**
 * Helpers for the cluster tests (test/cluster/): several real nodes on one DATA_DIR (one SQLite
 * event store), one private redis-server and one JWT secret; a light room follower speaking raw
 * graphql-transport-ws that records every event it gets (with its arrival time) and can resume on
 * another node by seq; a send that retries with the same clientMessageId until acknowledged; and
 * the delivery accounting the tests assert on (lost / duplicated / out of order).
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import WebSocket from 'ws';
import { SEND_MESSAGE, assertNoStackTrace, sleep, type GqlError, type MessageInfo } from './gql.js';
import { freshDataDir, startNode, type NodeHandle } from './nodeProcess.js';
import { startRedis, type RedisServer } from './redisServer.js';

// ---------------------------------------------------------------------------------------------
// Nodes

export interface Cluster {
  redis: RedisServer;
  dataDir: string;
  /** The environment every node of this cluster gets (plus its own NODE_ID). */
  env: Record<string, string>;
  /** Every node started for this cluster, in order, running or not. */
  nodes: NodeHandle[];
  /** Starts one more node on the same DATA_DIR, Redis and secret (on `port` if given: a replacement a static balancer list still names). */
  addNode(port?: number): Promise<NodeHandle>;
  /** The nodes whose process is still running. */
  live(): NodeHandle[];
}

export interface ClusterOptions {
  nodes: number;
  env?: Record<string, string>;
  /** Share a redis-server with another cluster (give each its own REDIS_PREFIX in `env`). */
  redis?: RedisServer;
  /** NODE_ID prefix, so log lines say which cluster and node they come from. */
  name?: string;
  /** The first nodes' ports, in order (e.g. chosen ahead so a balancer can start alongside); default: any free one. */
  ports?: number[];
}

export const isAlive = (node: NodeHandle): boolean => node.process.exitCode === null && node.process.signalCode === null;

const nodeIds = new WeakMap<NodeHandle, string>();
/** The NODE_ID a cluster node was started with (its port for other nodes). */
export const nodeId = (node: NodeHandle): string => nodeIds.get(node) ?? `:${node.port}`;

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const redis = options.redis ?? (await startRedis());
  const dataDir = freshDataDir();
  const env: Record<string, string> = {
    REDIS_URL: redis.url,
    JWT_SECRET: randomBytes(24).toString('base64url'),
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const nodes: NodeHandle[] = [];
  const name = options.name ?? 'n';
  let started = 0;
  const addNode = async (port?: number) => {
    // Numbered before the await: nodes started together must not share a NODE_ID (presence and
    // the projector lease are per NODE_ID).
    const id = `${name}${++started}`;
    const node = await startNode({ env: { ...env, NODE_ID: id, ...(port ? { PORT: String(port) } : {}) }, dataDir });
    nodeIds.set(node, id);
    nodes.push(node);
    return node;
  };
  // The first node creates the SQLite file and its schema alone; the others then start together.
  await addNode(options.ports?.[0]);
  await Promise.all(Array.from({ length: options.nodes - 1 }, (_, i) => addNode(options.ports?.[i + 1])));
  return { redis, dataDir, env, nodes, addNode, live: () => nodes.filter(isAlive) };
}

/** Resolves once the process has exited, with its status and how long that took (rejects after timeoutMs). */
export function waitForExit(node: NodeHandle, timeoutMs: number): Promise<{ code: number | null; signal: string | null; ms: number }> {
  const started = Date.now();
  const child = node.process;
  const status = () => ({ code: child.exitCode, signal: child.signalCode, ms: Date.now() - started });
  if (!isAlive(node)) return Promise.resolve(status());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${nodeId(node)} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(status());
    });
  });
}

/**
 * Log lines at pino level ≥ 40 (warn, error, fatal), grouped by node, message and error message
 * with a count, for failure messages and the report ("r2 ×12 [40] redis error: connect ECONNREFUSED").
 */
export function problemLines(nodes: NodeHandle[], max = 40): string[] {
  const counts = new Map<string, number>();
  for (const node of nodes) {
    for (const line of node.logs) {
      let key: string | null = null;
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } } & Record<string, unknown>;
        if ((entry.level ?? 0) >= 40) {
          // What went wrong is `err` (a serialised Error) or `error` (a message); the balancer adds
          // which `backend` (named here by NODE_ID) and what kind of `failure`.
          const backend = nodes.filter((n) => n.url === entry.backend).map(nodeId).join('|') || entry.backend;
          const where = [backend, entry.failure].filter((x) => typeof x === 'string' && x !== '').join(' ');
          const said = typeof entry.error === 'string' ? `${where ? `${where}: ` : ''}${entry.error}` : undefined;
          const detail = entry.err?.message ?? said ?? (entry.seq !== undefined ? `seq ${String(entry.seq)}` : '');
          key = `${nodeId(node)} [${entry.level}] ${entry.msg ?? ''}${detail ? `: ${detail.replace(/:\d{2,5}\b/g, ':PORT')}` : ''}`;
        }
      } catch {
        if (/error|warn/i.test(line)) key = `${nodeId(node)} ${line.slice(0, 200)}`;
      }
      if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts].slice(0, max).map(([key, count]) => (count > 1 ? `${key} (×${count})` : key));
}

/** GET `path` over a keep-alive agent (so it can still reach a node that stopped accepting). */
export function httpStatus(url: string, path: string, agent: Agent, timeoutMs = 2_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { agent, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// Sending with retries

export interface SendAttempt {
  node: string;
  at: number;
  ms: number;
  /** `ok`, an extensions.code, `HTTP <status>`, or `network: …`. */
  outcome: string;
}

export interface Acked {
  message: MessageInfo;
  /** When the acknowledgement arrived (Date.now()). */
  ackAt: number;
  attempts: SendAttempt[];
}

/** One sendMessage over HTTP; resolves with the message or a short outcome for a failure. */
export async function sendOnce(node: NodeHandle, token: string, roomId: string, body: string, clientMessageId: string, timeoutMs = 10_000) {
  const started = Date.now();
  const attempt = (outcome: string): SendAttempt => ({ node: nodeId(node), at: started, ms: Date.now() - started, outcome });
  try {
    const response = await fetch(`${node.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: SEND_MESSAGE, variables: { roomId, body, clientMessageId } }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    assertNoStackTrace(text, 'sendMessage response');
    let parsed: { data?: { sendMessage?: MessageInfo } | null; errors?: GqlError[] } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      return { attempt: attempt(`HTTP ${response.status}`) };
    }
    const message = parsed.data?.sendMessage;
    if (message && !parsed.errors?.length) return { message, attempt: attempt('ok') };
    const code = parsed.errors?.[0]?.extensions?.code ?? `HTTP ${response.status}`;
    return { attempt: attempt(`${code}: ${parsed.errors?.[0]?.message ?? ''}`.slice(0, 120)) };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { attempt: attempt(`network: ${cause ?? (error as Error).name ?? String(error)}`) };
  }
}

/**
 * Sends until acknowledged, always with the same clientMessageId: the first try goes to `first`,
 * each retry to `next(failedNode)` after a short pause. Rejects (with the attempts) after `deadline`.
 */
export async function sendUntilAcked(options: {
  first: NodeHandle;
  next: (failed: NodeHandle) => NodeHandle | undefined;
  token: string;
  roomId: string;
  body: string;
  clientMessageId: string;
  deadline: number;
}): Promise<Acked> {
  const attempts: SendAttempt[] = [];
  let node: NodeHandle | undefined = options.first;
  while (Date.now() < options.deadline) {
    if (node && isAlive(node)) {
      const result = await sendOnce(node, options.token, options.roomId, options.body, options.clientMessageId);
      attempts.push(result.attempt);
      if (result.message) return { message: result.message, ackAt: Date.now(), attempts };
      node = options.next(node);
    } else node = node ? options.next(node) : options.first;
    // A client's retry pause (jittered, as a real client's backoff), not a wait for readiness.
    await sleep(100 + Math.random() * 200);
  }
  throw Object.assign(new Error(`send ${options.clientMessageId} not acknowledged: ${JSON.stringify(attempts.slice(-5))}`), { attempts });
}

// ---------------------------------------------------------------------------------------------
// A light room follower over raw graphql-transport-ws

export interface Receipt {
  seq: number;
  /** Date.now() at arrival. */
  at: number;
  node: string;
  type: string;
  clientMessageId?: string;
  authorId?: string;
}

export interface CloseRecord {
  node: string;
  code: number;
  reason: string;
  at: number;
}

const FOLLOW = `subscription Follow($roomId: ID!, $afterSeq: Int) {
  roomEvents(roomId: $roomId, afterSeq: $afterSeq) { __typename seq ... on MessagePosted { message { clientMessageId author { id } } } }
}`;

interface NextPayload {
  data?: { roomEvents?: { __typename: string; seq: number; message?: { clientMessageId: string; author: { id: string } } } } | null;
  errors?: GqlError[];
}

/**
 * Follows one room on one node with a raw `ws` socket (a few KB per client, so sixty of them stay
 * cheap), records every event it gets, and — when given `pickNode` — resumes on another node with
 * afterSeq = the highest seq it has, whenever its socket closes or its subscription ends.
 */
export class RoomFollower {
  readonly received: Receipt[] = [];
  readonly closes: CloseRecord[] = [];
  /** Every (re)subscription: on which node, after which seq. */
  readonly subscriptions: Array<{ node: string; afterSeq: number | null; at: number }> = [];
  readonly failures: string[] = [];
  /** The same failures with the time each happened (Date.now()), to tell which fault caused them. */
  readonly failureLog: Array<{ at: number; text: string }> = [];
  /** afterSeq of the first subscription (null: it started live). */
  firstAfterSeq: number | null = null;
  node: NodeHandle | null = null;
  private ws: WebSocket | null = null;
  private stopped = false;
  private maxSeq = 0;
  private waiters = new Set<() => void>();
  private resuming = false;

  constructor(
    readonly token: string,
    readonly roomId: string,
    private readonly pickNode?: (previous: NodeHandle | null) => NodeHandle | undefined,
  ) {}

  /** Highest seq received so far (or the first afterSeq if none yet). */
  get lastSeq(): number {
    return Math.max(this.maxSeq, this.firstAfterSeq ?? 0);
  }

  get seqs(): number[] {
    return this.received.map((r) => r.seq);
  }

  /** Opens a socket to `node`, initialises, subscribes; resolves once the subscribe message is sent. */
  async connect(node: NodeHandle, afterSeq?: number): Promise<void> {
    if (this.subscriptions.length === 0) this.firstAfterSeq = afterSeq ?? null;
    const ws = new WebSocket(node.wsUrl, 'graphql-transport-ws');
    this.ws = ws;
    this.node = node;
    const id = nodeId(node);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`no connection_ack from ${id} within 10 s`)), 10_000);
      const fail = (error: Error) => {
        clearTimeout(timer);
        ws.terminate();
        reject(error);
      };
      // Surfaces as 'close'; kept to say why (a refused connection, an HTTP status instead of 101).
      let cause = '';
      ws.on('error', (error) => void (cause = `: ${error.message}`));
      ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${this.token}` } })));
      ws.once('close', (code) => fail(new Error(`${id} closed (${code}) before connection_ack${cause}`)));
      ws.on('message', (data) => {
        const text = data.toString();
        let message: { type: string; payload?: unknown };
        try {
          message = JSON.parse(text) as typeof message;
        } catch {
          this.fail(`${id}: not JSON: ${text.slice(0, 200)}`);
          return;
        }
        if (message.type === 'connection_ack') {
          clearTimeout(timer);
          ws.removeAllListeners('close');
          ws.on('close', (code, reason) => this.onClose(ws, id, code, reason.toString()));
          this.subscriptions.push({ node: id, afterSeq: afterSeq ?? null, at: Date.now() });
          ws.send(JSON.stringify({ id: 'follow', type: 'subscribe', payload: { query: FOLLOW, variables: { roomId: this.roomId, afterSeq } } }));
          resolve();
        } else this.onMessage(ws, id, message, text);
      });
    });
  }

  private fail(text: string): void {
    this.failures.push(text);
    this.failureLog.push({ at: Date.now(), text });
  }

  private onMessage(ws: WebSocket, node: string, message: { type: string; payload?: unknown }, text: string): void {
    if (message.type === 'ping') return ws.send(JSON.stringify({ type: 'pong' }));
    if (message.type === 'next') {
      const payload = message.payload as NextPayload;
      const event = payload.data?.roomEvents;
      if (!event || payload.errors?.length) {
        assertNoStackTrace(text, 'subscription error');
        this.fail(`${node}: ${text.slice(0, 300)}`);
        return;
      }
      this.maxSeq = Math.max(this.maxSeq, event.seq);
      this.received.push({
        seq: event.seq,
        at: Date.now(),
        node,
        type: event.__typename,
        clientMessageId: event.message?.clientMessageId,
        authorId: event.message?.author.id,
      });
      for (const wake of [...this.waiters]) wake();
      return;
    }
    if (message.type === 'error' || message.type === 'complete') {
      assertNoStackTrace(text, 'subscription end');
      this.fail(`${node}: ${text.slice(0, 300)}`);
      // The subscription ended while the socket is open: resume like after a close.
      ws.close(1000);
    }
  }

  private onClose(ws: WebSocket, node: string, code: number, reason: string): void {
    this.closes.push({ node, code, reason, at: Date.now() });
    if (ws !== this.ws || this.stopped || !this.pickNode) return;
    void this.resume();
  }

  /** Reconnects (bounded: 60 tries, ~15 s) on a node from `pickNode`, after the highest seq held. */
  private async resume(): Promise<void> {
    if (this.resuming) return;
    this.resuming = true;
    try {
      let previous = this.node;
      for (let attempt = 0; attempt < 60 && !this.stopped; attempt++) {
        // A client's reconnect backoff (jittered, so followers do not all come back at once).
        await sleep(50 + Math.random() * 200);
        const next = this.pickNode!(previous);
        if (!next) continue;
        try {
          await this.connect(next, this.lastSeq);
          return;
        } catch (error) {
          this.fail(`resume on ${nodeId(next)}: ${(error as Error).message}`);
          previous = next;
        }
      }
      this.fail('gave up resuming after 60 attempts');
    } finally {
      this.resuming = false;
    }
  }

  /** Waits (bounded) until a seq ≥ `seq` has arrived. */
  waitForSeq(seq: number, timeoutMs = 10_000): Promise<void> {
    if (this.maxSeq >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const wake = () => {
        if (this.maxSeq < seq) return;
        this.waiters.delete(wake);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new Error(`seq ${seq} not received within ${timeoutMs} ms (have up to ${this.maxSeq}; failures: ${this.failures.slice(-3).join(' | ')})`));
      }, timeoutMs);
      this.waiters.add(wake);
    });
  }

  /** Waits (bounded) for the next close of the current socket. */
  waitForClose(timeoutMs = 10_000): Promise<CloseRecord> {
    const seen = this.closes.length;
    const ws = this.ws;
    return new Promise((resolve, reject) => {
      if (!ws || ws.readyState === WebSocket.CLOSED) return resolve(this.closes.at(-1)!);
      const timer = setTimeout(() => reject(new Error(`socket not closed within ${timeoutMs} ms`)), timeoutMs);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve(this.closes[seen]!);
      });
    });
  }

  /** Stops for good (no resume) and drops the socket. */
  close(): void {
    this.stopped = true;
    this.ws?.terminate();
  }
}

// ---------------------------------------------------------------------------------------------
// Accounting

export interface Delivery {
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  missing: number[];
  duplicates: number[];
  misordered: number[];
}

/**
 * Compares what a subscriber got with what it should have got: every seq in (after, head] once,
 * ascending. `after` is the afterSeq it first subscribed with.
 */
export function accountDelivery(seqs: number[], after: number, head: number): Delivery {
  const seen = new Set<number>();
  const duplicates: number[] = [];
  const misordered: number[] = [];
  let max = after;
  for (const seq of seqs) {
    if (seen.has(seq)) duplicates.push(seq);
    else if (seq < max) misordered.push(seq);
    seen.add(seq);
    max = Math.max(max, seq);
  }
  const missing: number[] = [];
  for (let seq = after + 1; seq <= head; seq++) if (!seen.has(seq)) missing.push(seq);
  const expected = Math.max(0, head - after);
  return {
    expected,
    delivered: expected - missing.length,
    lost: missing.length,
    duplicated: duplicates.length,
    outOfOrder: misordered.length,
    missing,
    duplicates,
    misordered,
  };
}

/** The p-th percentile (0–100) of `values`, nearest rank; NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Compresses a seq list for messages: [3,4,5,9] → "3-5,9". */
export function ranges(seqs: number[], max = 20): string {
  const parts: string[] = [];
  const sorted = [...seqs].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length && parts.length < max; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',') + (parts.length >= max ? ',…' : '');
}
