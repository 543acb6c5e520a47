/**
 * `renameSelf`: a new display name for the same user. The user id stays (own messages stay
 * editable, private rooms stay joined), every room the user is in gets a MemberRenamed event
 * (history keeps the old name on what came before), and a new token carries the new name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ChatClientError, createChatClient, type RoomEvent } from '../../client/src/index.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import type { ServerHandle } from '../support/nodeProcess.js';
import { closeAllClients, collectUntil, newUser, track } from './helpers.js';

let node: ServerHandle;

beforeAll(async () => {
  node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
});
afterAll(async () => {
  await closeAllClients();
  await stopAllInProcessNodes();
});

describe('renameSelf', () => {
  it('keeps the user: same id, messages still theirs, private rooms still joined; each room logs the new name from then on', async () => {
    const { client: ada, userId } = await newUser(node.url, 'ada');
    const { client: bob } = await newUser(node.url, 'bob');
    const lobby = await ada.createRoom('lobby');
    const secret = await ada.createRoom('secret', 'hunter2222');
    await ada.createRoom('left behind').then((room) => ada.leaveRoom(room.id));
    const before = await ada.send(lobby.id, 'before');
    await bob.joinRoom(lobby.id);
    const feed = bob.roomEvents(lobby.id, { afterSeq: (await bob.room(lobby.id))!.headSeq });

    const session = await ada.renameSelf('Ada Lovelace');
    expect(session.user).toEqual({ id: userId, name: 'Ada Lovelace' });
    const [renamed] = (await collectUntil(feed, (events) => events.length >= 1)) as RoomEvent[];
    expect(renamed).toMatchObject({ __typename: 'MemberRenamed', user: { id: userId, name: 'Ada Lovelace' }, previousName: 'ada' });
    await feed.return!();

    const again = track(createChatClient({ url: node.url, token: session.token, webSocketImpl: WebSocket }));
    expect(await again.me()).toEqual({ id: userId, name: 'Ada Lovelace' });
    // Her rooms, the private one included, without its password.
    expect((await again.myRooms()).map((r) => r.name).sort()).toEqual(['lobby', 'secret']);
    await again.send(secret.id, 'still in');
    const after = await again.send(lobby.id, 'after');
    expect(after.author).toEqual({ id: userId, name: 'Ada Lovelace' });
    // The earlier message keeps the name it was written under, and is still hers to edit.
    expect((await again.editMessage(before.id, 'before, edited')).author).toEqual({ id: userId, name: 'ada' });
    const history = await bob.messages(lobby.id);
    expect(history.map((m) => [m.body, m.author.name])).toEqual([
      ['before, edited', 'ada'],
      ['after', 'Ada Lovelace'],
    ]);
    // The private room's log has the rename too; the room she left does not.
    const secretEvents = await again.urql.query(`query($id: ID!) { roomEvents(roomId: $id) { __typename seq } }`, { id: secret.id }).toPromise();
    expect((secretEvents.data as { roomEvents: Array<{ __typename: string }> }).roomEvents.map((e) => e.__typename)).toEqual(['RoomCreated', 'MemberJoined', 'MemberRenamed', 'MessagePosted']);

    // The same name again changes nothing in any room.
    const head = (await again.room(lobby.id))!.headSeq;
    expect((await again.renameSelf('Ada Lovelace')).user).toEqual({ id: userId, name: 'Ada Lovelace' });
    expect((await again.room(lobby.id))!.headSeq).toBe(head);
  });

  it('refuses a bad name and a request without a session', async () => {
    const { client } = await newUser(node.url, 'carol');
    await expect(client.renameSelf('  ')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(client.renameSelf('evil\u202Ename')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    const anonymous = track(createChatClient({ url: node.url, token: 'not-a-token', webSocketImpl: WebSocket }));
    const error = await anonymous.renameSelf('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatClientError);
    expect(['UNAUTHENTICATED', 'CLOSED']).toContain((error as ChatClientError).code);
  });
});
