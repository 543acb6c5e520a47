/**
 * `myRooms`: the session's rooms, private ones included, with their headSeq (a client's unread
 * count is headSeq minus the last seq it read), current right after a join, a leave or a send,
 * and refused without a session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClientError, createChatClient } from '../../client/src/index.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import type { ServerHandle } from '../support/nodeProcess.js';
import WebSocket from 'ws';
import { closeAllClients, newUser, track } from './helpers.js';

let node: ServerHandle;

beforeAll(async () => {
  node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
});
afterAll(async () => {
  await closeAllClients();
  await stopAllInProcessNodes();
});

describe('myRooms', () => {
  it("lists the viewer's public and private rooms, most active first, and follows joins, sends and leaves at once", async () => {
    const { client: ada } = await newUser(node.url, 'ada');
    const { client: bob } = await newUser(node.url, 'bob');
    const lobby = await ada.createRoom('lobby');
    const secret = await ada.createRoom('secret', 'hunter2222');
    await ada.createRoom('only ada');
    expect(await bob.myRooms()).toEqual([]);

    await bob.joinRoom(lobby.id);
    await bob.joinRoom(secret.id, 'hunter2222');
    // Read right after the join was acknowledged: already listed, private room in full.
    const mine = await bob.myRooms();
    expect(mine.map((r) => r.name)).toEqual(['secret', 'lobby']);
    expect(mine[0]).toMatchObject({ id: secret.id, private: true, memberCount: 2 });

    const sent = await ada.send(lobby.id, 'news');
    const after = await bob.myRooms();
    expect(after.map((r) => r.name)).toEqual(['lobby', 'secret']);
    expect(after[0]!.headSeq).toBe(sent.seq);

    await bob.leaveRoom(secret.id);
    expect((await bob.myRooms()).map((r) => r.name)).toEqual(['lobby']);
    expect((await ada.myRooms()).map((r) => r.name).sort()).toEqual(['lobby', 'only ada', 'secret']);
  });

  it('needs a session', async () => {
    const anonymous = track(createChatClient({ url: node.url, token: 'not-a-token', webSocketImpl: WebSocket }));
    const error = await anonymous.myRooms().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatClientError);
    expect(['UNAUTHENTICATED', 'CLOSED']).toContain((error as ChatClientError).code);
  });
});
