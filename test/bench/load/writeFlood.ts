/**
 * One abuser flooding every write there is, each kind with a few requests in flight, each retried
 * as soon as it is answered (see WriteFlood in abuseProtocol.ts). The writes aim where they hurt
 * the honest room most: messages of the largest size, their edits and deletes, joins and leaves
 * and typing all land in the room the honest subscribers follow.
 */
import { randomUUID } from 'node:crypto';
import type { WriteFlood } from './abuseProtocol.js';
import { AttackRun, outcomeOf, postGraphQL } from './attackRun.js';
import { GqlSocket, type OperationResult } from './gqlSocket.js';

const SEND = 'mutation($roomId: ID!, $body: String!, $cid: ID!) { sendMessage(roomId: $roomId, body: $body, clientMessageId: $cid) { id } }';
const EDIT = 'mutation($id: ID!, $body: String!) { editMessage(messageId: $id, body: $body) { id } }';
const DELETE = 'mutation($id: ID!) { deleteMessage(messageId: $id) { id } }';
const JOIN = 'mutation($roomId: ID!) { joinRoom(roomId: $roomId) { id } }';
const LEAVE = 'mutation($roomId: ID!) { leaveRoom(roomId: $roomId) { id } }';
const CREATE_ROOM = 'mutation($name: String!) { createRoom(name: $name) { id } }';
const TYPING = 'mutation($roomId: ID!, $typing: Boolean!) { setTyping(roomId: $roomId, typing: $typing) }';
const CREATE_SESSION = 'mutation($name: String!) { createSession(name: $name) { token } }';

/** Own message ids kept for edits and deletes (bounded). */
const MAX_IDS = 1_000;

export async function startWriteFlood(attack: WriteFlood, run: AttackRun): Promise<() => void> {
  const tag = randomUUID().slice(0, 6);
  const wsUrl = attack.url.replace(/^http/, 'ws');
  let sock = await GqlSocket.connect(wsUrl, attack.token);
  let reconnecting: Promise<GqlSocket> | undefined;
  // The node may close the socket (a slow consumer, too many operations): the abuser comes back.
  const socket = async (): Promise<GqlSocket> => {
    if (sock.isOpen) return sock;
    reconnecting ??= GqlSocket.connect(wsUrl, attack.token).finally(() => (reconnecting = undefined));
    return (sock = await reconnecting);
  };
  const ids: string[] = [];
  const body = (n: number): string => `flood ${n} `.padEnd(attack.bodyChars, 'x');
  const over = async (write: string, query: string, variables: Record<string, unknown>): Promise<OperationResult> => {
    const r = await (await socket()).operation(query, variables);
    run.note(write, outcomeOf(r));
    return r;
  };
  const writes: Array<[string, (n: number, loop: number) => Promise<unknown>]> = [
    [
      'sendMessage',
      async (n, loop) => {
        const r = await over('sendMessage', SEND, { roomId: attack.roomId, body: body(n), cid: `${tag}-${loop}-${n}` });
        const id = (r.data?.sendMessage as { id?: string } | undefined)?.id;
        if (id && ids.length < MAX_IDS) ids.push(id);
      },
    ],
    ['editMessage', (n) => over('editMessage', EDIT, { id: ids[n % Math.max(1, ids.length)] ?? 'none', body: body(n) })],
    // The oldest id is never deleted, so edits always have a message of the abuser's to edit.
    ['deleteMessage', () => over('deleteMessage', DELETE, { id: (ids.length > 1 ? ids.pop() : undefined) ?? 'none' })],
    ['joinRoom/leaveRoom', (n) => (n % 2 === 0 ? over('joinRoom', JOIN, { roomId: attack.roomId }) : over('leaveRoom', LEAVE, { roomId: attack.roomId }))],
    ['createRoom', (n, loop) => over('createRoom', CREATE_ROOM, { name: `flood ${tag} ${loop} ${n}` })],
    ['setTyping', (n) => over('setTyping', TYPING, { roomId: attack.roomId, typing: n % 2 === 0 })],
    [
      'createSession',
      async (n, loop) => {
        // Over HTTP (a session is what a client makes before it has a socket), from the same address.
        const r = await postGraphQL(attack.url, CREATE_SESSION, { name: `flood ${tag} ${loop} ${n}` });
        run.note('createSession', outcomeOf(r));
      },
    ],
  ];
  run.begin();
  let loop = 0;
  for (const [name, write] of writes) {
    for (let k = 0; k < attack.inFlightPerWrite; k++) {
      const id = loop++;
      run.loop(name, (n) => write(n, id).then(() => undefined));
    }
  }
  return () => sock.close();
}
