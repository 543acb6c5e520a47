/**
 * Presence across nodes (docs/api.md, "Presence"; docs/architecture.md: "Presence survives node death"): a user
 * following a room on node A is online for a watcher on node B; they go offline there within a
 * few seconds of closing their socket, and within 10 s of their node being killed with -9 (node
 * heartbeats with a TTL); a typing flag set on A shows on B and clears by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, createRoom, createUser, gql, joinRoom, wsClient, type Collected, type UserSession } from '../support/gql.js';
import { killAllNodes, type NodeHandle } from '../support/nodeProcess.js';
import { stopAllRedis } from '../support/redisServer.js';
import { RoomFollower, problemLines, startCluster, type Cluster } from '../support/cluster.js';
import type { Client } from 'graphql-ws';

afterAll(async () => {
  await killAllNodes();
  await stopAllRedis();
});

interface PresenceInfo {
  roomId: string;
  count: number;
  online: Array<{ id: string; name: string }>;
  typing: Array<{ id: string; name: string }>;
}

const PRESENCE = 'subscription($roomId: ID!) { presence(roomId: $roomId) { roomId count online { id name } typing { id name } } }';
const onlineIds = (view: PresenceInfo | undefined) => new Set(view?.online.map((u) => u.id) ?? []);
const typingIds = (view: PresenceInfo | undefined) => new Set(view?.typing.map((u) => u.id) ?? []);

describe('presence across nodes', () => {
  let cluster: Cluster;
  let a: NodeHandle;
  let b: NodeHandle;
  let roomId: string;
  let watcherClient: Client;
  let watch: Collected<PresenceInfo>;
  let watcher: UserSession;
  const followers: RoomFollower[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, name: 'p', env: { RATE_LIMIT_MESSAGES: '0' } });
    [a, b] = cluster.nodes as [NodeHandle, NodeHandle];
    const owner = await createUser(a.url, 'owner');
    roomId = (await createRoom(a.url, owner.token, 'who is here')).id;
    watcher = await createUser(b.url, 'watcher');
    watcherClient = wsClient(b.wsUrl, watcher.token);
    watch = collect<PresenceInfo>(watcherClient, { query: PRESENCE, variables: { roomId } }, 'presence');
    await watch.waitFor((items) => onlineIds(items.at(-1)).has(watcher.user.id), 5_000, 'the watcher sees itself online');
  });

  afterAll(async () => {
    for (const follower of followers) follower.close();
    await watcherClient?.dispose();
    const problems = problemLines(cluster?.nodes ?? []);
    if (problems.length) console.log(`log lines at level ≥ 40:\n${problems.join('\n')}`);
    for (const node of cluster?.live() ?? []) expect(await node.stop()).toBe(0);
  });

  /** A user following the room's events on `node` (which makes them online there). */
  async function followOn(node: NodeHandle, name: string): Promise<{ user: UserSession; follower: RoomFollower }> {
    const user = await createUser(node.url, name);
    await joinRoom(node.url, user.token, roomId);
    const follower = new RoomFollower(user.token, roomId);
    followers.push(follower);
    await follower.connect(node);
    return { user, follower };
  }

  /** Resolves with how long it took until the latest presence the watcher got satisfies `holds`. */
  async function until(holds: (view: PresenceInfo) => boolean, timeoutMs: number, label: string): Promise<number> {
    const started = Date.now();
    await watch.waitFor((items) => items.length > 0 && holds(items.at(-1)!), timeoutMs, label);
    return Date.now() - started;
  }

  it('a user subscribed on node A is online for a watcher on node B, and offline there soon after closing the socket', async () => {
    const { user, follower } = await followOn(a, 'closer');
    const onlineMs = await until((view) => onlineIds(view).has(user.user.id), 5_000, 'online on B');
    const view = watch.items.at(-1)!;
    expect(view.roomId).toBe(roomId);
    expect(view.count).toBe(view.online.length);
    expect(onlineIds(view).has(watcher.user.id)).toBe(true);

    follower.close();
    const offlineMs = await until((view) => !onlineIds(view).has(user.user.id), 5_000, 'offline on B after the socket closed');
    console.log(`presence on B: online ${onlineMs} ms after subscribing on A, offline ${offlineMs} ms after the socket closed`);
    expect(onlineIds(watch.items.at(-1)).has(watcher.user.id)).toBe(true);
  });

  it('typing set on node A shows on node B and clears by itself', async () => {
    const { user } = await followOn(a, 'typist');
    await until((view) => onlineIds(view).has(user.user.id), 5_000, 'the typist online on B');

    const setAt = Date.now();
    const result = await gql<{ setTyping: boolean }>(a.url, 'mutation($roomId: ID!) { setTyping(roomId: $roomId, typing: true) }', { roomId }, user.token);
    expect(result.setTyping).toBe(true);
    await until((view) => typingIds(view).has(user.user.id), 5_000, 'typing shows on B');
    const shownMs = Date.now() - setAt;
    await until((view) => !typingIds(view).has(user.user.id), 15_000, 'typing clears by itself');
    const clearedMs = Date.now() - setAt;
    console.log(`typing on B: shown ${shownMs} ms after setTyping on A, cleared by itself after ${clearedMs} ms`);
    expect(clearedMs).toBeGreaterThan(1_000); // it lapsed, it was not just a blip
    expect(onlineIds(watch.items.at(-1)).has(user.user.id)).toBe(true); // still online, only not typing
  });

  it('kill -9 of node A takes its user offline for the watcher on B within 10 s', async () => {
    const { user } = await followOn(a, 'on the doomed node');
    await until((view) => onlineIds(view).has(user.user.id), 5_000, 'online on B before the crash');

    const killedAt = Date.now();
    await a.kill();
    await until((view) => !onlineIds(view).has(user.user.id), 12_000, 'offline on B after kill -9 of A');
    const offlineMs = Date.now() - killedAt;
    console.log(`presence on B: the user of the killed node went offline ${offlineMs} ms after kill -9`);
    expect(offlineMs).toBeLessThanOrEqual(10_000);
    // Everyone of the dead node is gone; the watcher on B is not.
    const view = watch.items.at(-1)!;
    expect(onlineIds(view).has(watcher.user.id)).toBe(true);
    expect(view.online.map((u) => u.name)).not.toContain('typist');
    expect(view.count).toBe(view.online.length);
  });
});
