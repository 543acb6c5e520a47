/**
 * Issue 11, finding 6: `room(id)` showed a private room to anyone, even without a session: its
 * name, headSeq (so its activity could be watched), memberCount and createdAt. Now a non-member
 * learns only that it exists and is private: `id` and `private`; every other field of it is
 * refused with FORBIDDEN (the schema keeps them non-null, so selecting one nulls the room).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom, createUser, errorCodes, http, joinRoom, sendMessage, type UserSession } from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes, type InProcessNode } from '../support/inProcessNode.js';
import { LEAVE, post } from './requests.js';

afterAll(stopAllInProcessNodes);

const PASSWORD = 'open sesame please';
const HIDDEN_FIELDS = ['name', 'headSeq', 'oldestSeq', 'memberCount', 'createdAt', 'presence { count }'];

let node: InProcessNode;
let owner: UserSession;
let stranger: UserSession;
let roomId: string;

beforeAll(async () => {
  node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
  owner = await createUser(node.url, 'owner');
  stranger = await createUser(node.url, 'stranger');
  roomId = (await createRoom(node.url, owner.token, 'the secret plan', PASSWORD)).id;
  await sendMessage(node.url, owner.token, roomId, 'activity a watcher should not see');
});

afterAll(async () => {
  await node?.stop();
});

const roomQuery = (fields: string) => `query($id: ID!) { room(id: $id) { ${fields} } }`;

describe('room(id) of a private room', () => {
  for (const who of ['no session', 'a non-member'] as const) {
    it(`${who}: learns id and private, nothing else`, async () => {
      const token = who === 'no session' ? undefined : stranger.token;
      const visible = await http<{ room: { id: string; private: boolean } }>(node.url, roomQuery('id private'), { id: roomId }, token);
      expect(visible.errors).toBeUndefined();
      expect(visible.data!.room).toEqual({ id: roomId, private: true });

      for (const field of HIDDEN_FIELDS) {
        const response = await http<{ room: unknown }>(node.url, roomQuery(`id private ${field}`), { id: roomId }, token);
        expect(errorCodes(response), field).toEqual(['FORBIDDEN']);
        expect(response.errors![0]!.path, field).toEqual(['room', field.split(' ')[0]]);
        expect(response.data?.room ?? null, field).toBeNull();
        expect(response.text).not.toContain('the secret plan');
      }
    });
  }

  it('a member sees everything', async () => {
    const member = await createUser(node.url, 'member');
    await joinRoom(node.url, member.token, roomId, PASSWORD);
    const response = await http<{ room: Record<string, unknown> }>(node.url, roomQuery('id private name headSeq memberCount presence { count }'), { id: roomId }, member.token);
    expect(response.errors).toBeUndefined();
    expect(response.data!.room).toMatchObject({ id: roomId, private: true, name: 'the secret plan', memberCount: 2 });
  });

  it('leaving answers with the room as the leaver last saw it, and from then on it is hidden from them', async () => {
    const member = await createUser(node.url, 'leaver');
    await joinRoom(node.url, member.token, roomId, PASSWORD);
    const left = await post<{ leaveRoom: { id: string; memberCount: number } }>(node.url, LEAVE, { roomId }, { token: member.token });
    expect(left.errors).toBeUndefined();
    expect(left.data!.leaveRoom.id).toBe(roomId);
    expect(errorCodes(await http(node.url, roomQuery('name'), { id: roomId }, member.token))).toEqual(['FORBIDDEN']);
  });

  it('a public room is shown in full to anyone, with or without a session', async () => {
    const lobby = await createRoom(node.url, owner.token, 'lobby');
    const response = await http<{ room: Record<string, unknown> }>(node.url, roomQuery('id private name headSeq memberCount'), { id: lobby.id });
    expect(response.errors).toBeUndefined();
    expect(response.data!.room).toMatchObject({ id: lobby.id, private: false, name: 'lobby' });
  });
});
