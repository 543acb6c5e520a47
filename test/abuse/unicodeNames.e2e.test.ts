/**
 * Issue 11, finding 10 (names and bodies): Unicode format characters (U+202E, zero-width ones),
 * Hangul fillers (U+3164) and lone surrogates were accepted, which allows impersonation ("ada" and
 * "ada" + U+200B look alike) and spoofed file names ("invoice‮fdp.exe"). Now they are refused with
 * BAD_USER_INPUT naming the character, names are normalised (NFKC), and bodies stay as typed. The
 * rules themselves are unit-tested in test/unit/validate.unit.test.ts; this checks the API edge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom, createUser, errorCodes, trySend, type UserSession } from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes, type InProcessNode } from '../support/inProcessNode.js';
import { CREATE_ROOM, CREATE_SESSION, EDIT, post } from './requests.js';

afterAll(stopAllInProcessNodes);

let node: InProcessNode;
let ada: UserSession;
let roomId: string;

beforeAll(async () => {
  node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
  ada = await createUser(node.url, 'ada');
  roomId = (await createRoom(node.url, ada.token, 'lobby')).id;
});

afterAll(async () => {
  await node?.stop();
});

describe('names', () => {
  it.each([
    ['a right-to-left override', 'invoice\u202Efdp.exe'],
    ['a zero-width space', 'ada\u200B'],
    ['a zero-width joiner between letters', 'a\u200Dda'],
    ['a Hangul filler', '\u3164'],
    ['a halfwidth Hangul filler', 'ada\uFFA0'],
    ['a lone surrogate', 'ada\uD800'],
    ['a byte order mark', '\uFEFFada'],
  ])('%s: BAD_USER_INPUT naming it, for sessions and rooms', async (_what, name) => {
    const session = await post(node.url, CREATE_SESSION, { name });
    expect(errorCodes(session)).toEqual(['BAD_USER_INPUT']);
    expect(session.errors![0]!.message).toMatch(/name contains .*U\+[0-9A-F]{4}/);
    expect(errorCodes(await post(node.url, CREATE_ROOM, { name }, { token: ada.token }))).toEqual(['BAD_USER_INPUT']);
  });

  it('are normalised (NFKC): full-width and ligature look-alikes become the plain letters', async () => {
    const response = await post<{ createSession: { user: { name: string } } }>(node.url, CREATE_SESSION, { name: 'ａｄａ ﬁ' });
    expect(response.data!.createSession.user.name).toBe('ada fi');
  });

  it('emoji sequences that need a joiner are fine', async () => {
    const response = await post<{ createSession: { user: { name: string } } }>(node.url, CREATE_SESSION, { name: 'family 👨‍👩‍👧 🏳️‍🌈' });
    expect(response.errors).toBeUndefined();
  });
});

describe('message bodies', () => {
  it('refuse format characters and lone surrogates, but keep what was typed otherwise', async () => {
    expect(errorCodes(await trySend(node.url, ada.token, roomId, 'see invoice\u202Efdp.exe'))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await trySend(node.url, ada.token, roomId, 'hidden\u2066text'))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await trySend(node.url, ada.token, roomId, 'broken \uDC00'))).toEqual(['BAD_USER_INPUT']);
    const typed = 'ｆｕｌｌ width stays, and so does 👩🏽‍💻';
    const sent = await trySend(node.url, ada.token, roomId, typed);
    expect(sent.errors).toBeUndefined();
    expect(sent.data!.sendMessage.body).toBe(typed);
    expect(errorCodes(await post(node.url, EDIT, { messageId: sent.data!.sendMessage.id, body: 'now \u200B hidden' }, { token: ada.token }))).toEqual(['BAD_USER_INPUT']);
  });
});
