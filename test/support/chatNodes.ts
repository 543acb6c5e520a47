/**
 * Two (or more) roomlog nodes that form one cluster, for the client and browser tests: one
 * DATA_DIR (the SQLite event store), a private redis-server, one JWT secret. A node can be killed
 * and a new one started in its place, on the same port, so a page served by it can come back.
 */
import { randomBytes } from 'node:crypto';
import { freshDataDir, startNode, type NodeHandle } from './nodeProcess.js';
import { startRedis, type RedisServer } from './redisServer.js';

export interface ChatNodes {
  redis: RedisServer;
  nodes: NodeHandle[];
  env: Record<string, string>;
  dataDir: string;
  /** Starts another node of the cluster (on `port` if given, e.g. to replace a killed one). */
  addNode(port?: number): Promise<NodeHandle>;
}

export async function startChatNodes(count: number, env: Record<string, string> = {}): Promise<ChatNodes> {
  const redis = await startRedis();
  const dataDir = freshDataDir();
  const shared = { REDIS_URL: redis.url, JWT_SECRET: randomBytes(24).toString('base64url'), LOG_LEVEL: 'info', ...env };
  const nodes: NodeHandle[] = [];
  let started = 0;
  const addNode = async (port?: number) => {
    const id = `c${++started}`;
    const node = await startNode({ env: { ...shared, NODE_ID: id, ...(port ? { PORT: String(port) } : {}) }, dataDir });
    nodes.push(node);
    return node;
  };
  // The first node creates the SQLite file and its schema alone.
  await addNode();
  await Promise.all(Array.from({ length: count - 1 }, () => addNode()));
  return { redis, nodes, env: shared, dataDir, addNode };
}
