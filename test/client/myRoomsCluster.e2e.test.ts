/**
 * `myRooms` and `renameSelf` across a cluster (two nodes, one SQLite log, Redis read models shared
 * by both): a join or a rename made on one node shows on the other at once (the memberships read
 * model in Redis, read-your-writes), and the other node's subscribers get the MemberRenamed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createChatClient } from '../../client/src/index.js';
import { startChatNodes, type ChatNodes } from '../support/chatNodes.js';
import { killAllNodes } from '../support/nodeProcess.js';
import { stopAllRedis } from '../support/redisServer.js';
import { closeAllClients, collectUntil, newUser, track } from './helpers.js';

let cluster: ChatNodes;

beforeAll(async () => {
  cluster = await startChatNodes(2, { RATE_LIMIT_MESSAGES: '0' });
}, 60_000);
afterAll(stopAllRedis);
afterAll(killAllNodes);
afterAll(closeAllClients);

describe('myRooms and renameSelf on a cluster', () => {
  it('a join on one node is listed by the other at once; a rename on one reaches the other node, its rooms and its subscribers', async () => {
    const [a, b] = cluster.nodes.map((node) => node.url) as [string, string];
    const { client: adaOnA, token: adaToken, userId } = await newUser(a, 'ada');
    const { client: bobOnB } = await newUser(b, 'bob');
    const adaOnB = track(createChatClient({ url: b, token: adaToken, webSocketImpl: WebSocket }));
    const lobby = await bobOnB.createRoom('lobby');
    const secret = await bobOnB.createRoom('secret', 'hunter2222');

    await adaOnA.joinRoom(lobby.id);
    expect((await adaOnB.myRooms()).map((r) => r.name)).toEqual(['lobby']);
    await adaOnA.joinRoom(secret.id, 'hunter2222');
    expect((await adaOnB.myRooms()).map((r) => r.name).sort()).toEqual(['lobby', 'secret']);

    const feed = bobOnB.roomEvents(secret.id, { afterSeq: (await bobOnB.room(secret.id))!.headSeq });
    const session = await adaOnA.renameSelf('Ada Lovelace');
    expect(session.user).toEqual({ id: userId, name: 'Ada Lovelace' });
    const [renamed] = await collectUntil(feed, (events) => events.length >= 1);
    expect(renamed).toMatchObject({ __typename: 'MemberRenamed', user: { id: userId, name: 'Ada Lovelace' }, previousName: 'ada' });
    await feed.return!();

    const renamedOnB = track(createChatClient({ url: b, token: session.token, webSocketImpl: WebSocket }));
    expect(await renamedOnB.me()).toEqual({ id: userId, name: 'Ada Lovelace' });
    expect((await renamedOnB.myRooms()).map((r) => r.name).sort()).toEqual(['lobby', 'secret']);
    expect((await renamedOnB.send(secret.id, 'hello from B')).author).toEqual({ id: userId, name: 'Ada Lovelace' });
    await renamedOnB.leaveRoom(lobby.id);
    expect((await adaOnA.myRooms()).map((r) => r.name)).toEqual(['secret']);
  });
});
