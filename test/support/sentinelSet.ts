/**
 * A Redis master, its replica and three sentinels, each a child process on a random port of
 * 127.0.0.1 (`redis-server` on PATH; a sentinel is `redis-server <conf> --sentinel`), for the
 * failover test. Sentinels rewrite their configuration file, so each gets one in a temporary
 * directory. Timings are short (down after 1 s) so a failover takes seconds, not half a minute.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { eventually } from './gql.js';
import { freePort, type RedisServer } from './redisServer.js';

export const MASTER_NAME = 'roomlog-test';

export interface SentinelSet {
  master: RedisServer;
  replica: RedisServer;
  sentinelPorts: number[];
  /** REDIS_URL naming the set: redis+sentinel://127.0.0.1:p1,…/roomlog-test */
  url: string;
  /** The port the sentinels currently name as master (asks the first one that answers). */
  masterPort(): Promise<number>;
  /** One-shot command to a Redis of the set by port. */
  command(port: number, ...args: string[]): Promise<unknown>;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
const dirs = new Set<string>();

function launch(args: string[], label: string): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${label} did not start within 10 s: ${output.slice(-500)}`)), 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Ready to accept connections|Sentinel ID is/.test(output)) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.resume();
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited with ${code}: ${output.slice(-500)}`));
    });
  });
}

function killChild(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * A data Redis (no persistence) as a RedisServer handle; `replicaOf`: start as its replica. `dir`:
 * a replica writes the master's snapshot there during a full sync (else into the current directory).
 */
async function dataRedis(label: string, dir: string, replicaOf?: number): Promise<RedisServer> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  if (replicaOf) args.push('--replicaof', '127.0.0.1', String(replicaOf));
  let child: ChildProcess | null = await launch(args, label);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      const running = child;
      child = null;
      await killChild(running);
    },
    async restart() {
      child = await launch(args, label);
    },
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
  };
}

async function command(port: number, ...args: string[]): Promise<unknown> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await redis.call(args[0]!, ...args.slice(1));
  } finally {
    redis.disconnect();
  }
}

/** Fields of an INFO section or a SENTINEL MASTER reply as an object. */
export function fields(reply: unknown): Record<string, string> {
  if (typeof reply === 'string') {
    return Object.fromEntries(
      reply
        .split('\r\n')
        .filter((line) => line.includes(':'))
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
    );
  }
  const list = reply as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]!] = list[i + 1]!;
  return out;
}

export async function startSentinelSet(options: { downAfterMs?: number; failoverTimeoutMs?: number } = {}): Promise<SentinelSet> {
  const dir = mkdtempSync(join(tmpdir(), 'roomlog-sentinel-'));
  dirs.add(dir);
  const master = await dataRedis('master', dir);
  const replica = await dataRedis('replica', dir, master.port);
  await eventually(async () => fields(await command(replica.port, 'INFO', 'replication')).master_link_status === 'up', 10_000, 'the replica in sync');

  const sentinelPorts: number[] = [];
  const sentinels: ChildProcess[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} ${options.downAfterMs ?? 1_000}`,
        `sentinel failover-timeout ${MASTER_NAME} ${options.failoverTimeoutMs ?? 5_000}`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        '',
      ].join('\n'),
    );
    sentinels.push(await launch([conf, '--sentinel'], `sentinel ${i + 1}`));
    sentinelPorts.push(port);
  }
  // A failover needs a quorum (2) to agree the master is down and a majority to elect a leader:
  // wait until every sentinel has found the other two and the replica (hello messages, ~2 s).
  await eventually(
    async () => {
      for (const port of sentinelPorts) {
        const known = fields(await command(port, 'SENTINEL', 'MASTER', MASTER_NAME));
        if (known['num-other-sentinels'] !== '2' || known['num-slaves'] !== '1') return false;
      }
      return true;
    },
    20_000,
    'sentinels that know each other and the replica',
    200,
  );

  const masterPort = async () => {
    for (const port of sentinelPorts) {
      try {
        const [, answer] = (await command(port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string];
        return Number(answer);
      } catch {
        // That sentinel is away; ask the next.
      }
    }
    throw new Error('no sentinel answers');
  };
  return {
    master,
    replica,
    sentinelPorts,
    url: `redis+sentinel://${sentinelPorts.map((port) => `127.0.0.1:${port}`).join(',')}/${MASTER_NAME}`,
    masterPort,
    command,
    async stop() {
      await Promise.all([master.kill(), replica.kill(), ...sentinels.map(killChild)]);
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
}

/** Kills every process these helpers started and removes their directories (afterAll). */
export async function stopAllSentinelSets(): Promise<void> {
  await Promise.all([...children].map(killChild));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}
