/**
 * The capacity model (docs/capacity.md): from unit costs measured on one machine
 * (`npm run bench -- --only capacity`) to what a workload needs — nodes, Redis load, event-store
 * load — and which part runs out first. Pure arithmetic, so the calculator and the bench's
 * validation use the same formulas, and a unit test can check them by hand.
 *
 * The workload: `users` connected users (one connection each), each following `roomsPerUser`
 * rooms, spread evenly over `rooms` rooms; `msgsPerS` sends a second spread evenly over the rooms.
 * A balancer spreads connections and sends evenly over the nodes.
 */

export interface UnitCosts {
  /** Where and when these were measured (printed with every answer). */
  measuredOn: string;
  /** A node with nothing to do: timers, lease renewals, announcements, presence heartbeats. */
  nodeIdleCores: number;
  /** RSS of a node with no connection. */
  nodeBaseRssBytes: number;
  /** CPU on the node that takes a send: parse, auth, limits, decide, append, publish; and the projection (lease holder). */
  cpuUsPerSend: number;
  /** CPU on a node with at least one local subscriber of the room, per room message: from Redis into its room hub. */
  cpuUsPerRoomMessagePerNode: number;
  /** CPU per event handed to one subscriber (frame, write). */
  cpuUsPerDelivery: number;
  /** CPU per second per idle subscribed connection (keep-alive pings, timers). */
  cpuUsPerConnectionSecond: number;
  /** RSS per idle subscribed connection. */
  bytesPerConnection: number;
  /** Redis commands per send, whole cluster (limits, publish, projection writes). */
  redisCommandsPerSend: number;
  /** Redis commands per second per node when idle (lease, announcements, presence). */
  redisCommandsPerNodeSecond: number;
  /** Redis commands per second per connected user (presence). */
  redisCommandsPerConnectionSecond: number;
  /** Redis CPU per send (the commands above). */
  redisUsPerSend: number;
  /** Redis CPU per room message per subscribed node (pub/sub delivery to that node). */
  redisUsPerNodeMessage: number;
  /** Redis CPU per idle node. */
  redisIdleCoresPerNode: number;
  /** Events appended to the log per send. */
  storeWritesPerSend: number;
  /** Mean time of a send's decide-and-append (chat_command_seconds), ms: with SQLite's single writer, the busy time per write. */
  storeAppendMs: number;
}

export interface Workload {
  users: number;
  rooms: number;
  msgsPerS: number;
  /** Rooms each user follows (default 1). */
  roomsPerUser?: number;
}

export interface Budgets {
  /** Cores one node may use (a node is one event loop: at most 1; default 0.7 leaves headroom for bursts and GC). */
  nodeCores: number;
  /** Memory one node may use, bytes. */
  nodeMemoryBytes: number;
  /** Cores Redis may use (one thread: at most 1). */
  redisCores: number;
  /** Busy fraction of the event store's writer (SQLite: one writer). */
  storeBusy: number;
  /** Overrides the store limit as appends a second (e.g. a PostgreSQL measured elsewhere). */
  storeMaxWritesPerS?: number;
  /** Give up looking for a node count past this. */
  maxNodes: number;
}

export const DEFAULT_BUDGETS: Budgets = {
  nodeCores: 0.7,
  nodeMemoryBytes: 1024 ** 3,
  redisCores: 0.7,
  storeBusy: 0.7,
  maxNodes: 1_000,
};

export interface NodeLoad {
  connections: number;
  sendsPerS: number;
  deliveriesPerS: number;
  /** Room messages this node receives from Redis (rooms with a local subscriber). */
  roomMessagesPerS: number;
  cores: number;
  memoryBytes: number;
}

export interface ClusterLoad {
  nodes: number;
  /** Subscribers per room. */
  subscribersPerRoom: number;
  deliveriesPerS: number;
  perNode: NodeLoad;
  redis: { commandsPerS: number; pubsubMessagesPerS: number; cores: number };
  store: { writesPerS: number; busy: number };
}

export type Part = 'node CPU' | 'node memory' | 'Redis CPU' | 'event store';

export interface Plan extends ClusterLoad {
  /** False when no node count up to maxNodes fits (the per-node share of room messages alone is too much). */
  fits: boolean;
  /** Use of each part against its budget at this load (1 = at the budget). */
  use: Record<Part, number>;
  /**
   * How many times this workload (users and msgs/s together, rooms alike) each shared part takes
   * before it reaches its budget; nodes are added as needed, so they have none.
   */
  headroom: { 'Redis CPU': number; 'event store': number };
  /** The part that limits first: node CPU or memory if no node count fits, else the shared part with the least headroom. */
  saturatesFirst: Part;
}

/** Subscribers per room: every user's follows spread evenly over the rooms. */
export const subscribersPerRoom = (w: Workload): number => (w.rooms > 0 ? (w.users * (w.roomsPerUser ?? 1)) / w.rooms : 0);

/**
 * The chance that a room has at least one local subscriber on a given node, with its
 * `subscribers` placed at random over `nodes` nodes.
 */
export function localShare(subscribers: number, nodes: number): number {
  if (nodes <= 1) return subscribers > 0 ? 1 : 0;
  return 1 - (1 - 1 / nodes) ** subscribers;
}

/** The load on each part with `nodes` nodes. */
export function clusterLoad(costs: UnitCosts, w: Workload, nodes: number): ClusterLoad {
  const perRoom = subscribersPerRoom(w);
  const deliveriesPerS = w.msgsPerS * perRoom;
  const connections = w.users / nodes;
  const sendsPerS = w.msgsPerS / nodes;
  const roomMessagesPerS = w.msgsPerS * localShare(perRoom, nodes);
  const perNodeDeliveries = deliveriesPerS / nodes;
  const cores =
    costs.nodeIdleCores +
    (connections * costs.cpuUsPerConnectionSecond + sendsPerS * costs.cpuUsPerSend + roomMessagesPerS * costs.cpuUsPerRoomMessagePerNode + perNodeDeliveries * costs.cpuUsPerDelivery) / 1e6;
  const memoryBytes = costs.nodeBaseRssBytes + connections * costs.bytesPerConnection;
  const pubsubMessagesPerS = roomMessagesPerS * nodes;
  const redisCores =
    nodes * costs.redisIdleCoresPerNode + (w.msgsPerS * costs.redisUsPerSend + pubsubMessagesPerS * costs.redisUsPerNodeMessage) / 1e6;
  const commandsPerS = w.msgsPerS * costs.redisCommandsPerSend + nodes * costs.redisCommandsPerNodeSecond + w.users * costs.redisCommandsPerConnectionSecond;
  const writesPerS = w.msgsPerS * costs.storeWritesPerSend;
  return {
    nodes,
    subscribersPerRoom: perRoom,
    deliveriesPerS,
    perNode: { connections, sendsPerS, deliveriesPerS: perNodeDeliveries, roomMessagesPerS, cores, memoryBytes },
    redis: { commandsPerS, pubsubMessagesPerS, cores: redisCores },
    store: { writesPerS, busy: (writesPerS * costs.storeAppendMs) / 1000 },
  };
}

/** The store's use against its budget: by the writer's busy time, or by the given appends/s limit. */
function storeUse(load: ClusterLoad, budgets: Budgets): number {
  if (budgets.storeMaxWritesPerS !== undefined) return load.store.writesPerS / budgets.storeMaxWritesPerS;
  return load.store.busy / budgets.storeBusy;
}

const fitsOnNodes = (load: ClusterLoad, budgets: Budgets): boolean =>
  load.perNode.cores <= budgets.nodeCores && load.perNode.memoryBytes <= budgets.nodeMemoryBytes;

/** The fewest nodes that carry the workload within the budgets, and what the shared parts then carry. */
export function plan(costs: UnitCosts, w: Workload, budgets: Budgets = DEFAULT_BUDGETS): Plan {
  const load = clusterLoad(costs, w, nodesFor(costs, w, budgets));
  const fits = fitsOnNodes(load, budgets);
  const use: Record<Part, number> = {
    'node CPU': load.perNode.cores / budgets.nodeCores,
    'node memory': load.perNode.memoryBytes / budgets.nodeMemoryBytes,
    'Redis CPU': load.redis.cores / budgets.redisCores,
    'event store': storeUse(load, budgets),
  };
  const headroom = {
    'Redis CPU': scaleUntil(costs, w, budgets, (l) => l.redis.cores / budgets.redisCores),
    'event store': scaleUntil(costs, w, budgets, (l) => storeUse(l, budgets)),
  };
  let saturatesFirst: Part;
  if (!fits) saturatesFirst = use['node CPU'] >= use['node memory'] ? 'node CPU' : 'node memory';
  else saturatesFirst = headroom['Redis CPU'] <= headroom['event store'] ? 'Redis CPU' : 'event store';
  return { ...load, fits, use, headroom, saturatesFirst };
}

/**
 * The factor k (users × k, rooms × k, msgs/s × k; nodes as many as needed) at which `useOf` of the
 * cluster reaches 1, by bisection; Infinity past 1e6.
 */
export function scaleUntil(costs: UnitCosts, w: Workload, budgets: Budgets, useOf: (load: ClusterLoad) => number): number {
  const at = (k: number): number => {
    const scaled = { ...w, users: w.users * k, rooms: w.rooms * k, msgsPerS: w.msgsPerS * k };
    return useOf(clusterLoad(costs, scaled, nodesFor(costs, scaled, budgets)));
  };
  if (at(1e6) < 1) return Infinity;
  let low = 0;
  let high = 1e6;
  for (let i = 0; i < 100 && high - low > 1e-4 * high; i++) {
    const mid = (low + high) / 2;
    if (at(mid) < 1) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** Nodes needed for node CPU and memory alone (maxNodes when none fits). */
export function nodesFor(costs: UnitCosts, w: Workload, budgets: Budgets): number {
  for (let nodes = 1; nodes < budgets.maxNodes; nodes++) if (fitsOnNodes(clusterLoad(costs, w, nodes), budgets)) return nodes;
  return budgets.maxNodes;
}
