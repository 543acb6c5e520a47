import { describe, expect, it } from 'vitest';
import { decide, evolve, initialRoomState, type RoomCommand, type RoomState } from '../../src/domain/room.js';
import { messageIdFor, postEventId } from '../../src/domain/ids.js';
import type { RoomEventBody, UserRef } from '../../src/domain/events.js';
import { alice, bob, created, deleted, expectChatError, joined, left, posted } from './fixtures.js';

const ROOM = 'room1';
const carol: UserRef = { id: 'u-carol', name: 'Carol' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Given: the state folded from these events, at seq 1, 2, 3, … */
function given(...events: RoomEventBody[]): RoomState {
  return events.reduce((state, event, i) => evolve(state, event, i + 1), initialRoomState());
}

/** The message id that a PostMessage from `author` with `clientMessageId` gets. */
const messageOf = (author: UserRef, clientMessageId: string) =>
  messageIdFor(ROOM, postEventId(ROOM, author.id, clientMessageId));

/** Given a room created by Alice (who is a member), plus more events. */
const givenRoom = (...more: RoomEventBody[]) => given(created(ROOM), joined(ROOM, alice), ...more);

/** A message posted by `author` through the domain's own id scheme. */
const postedBy = (author: UserRef, clientMessageId: string, body = 'hi'): RoomEventBody => ({
  type: 'MessagePosted',
  data: { roomId: ROOM, messageId: messageOf(author, clientMessageId), clientMessageId, author, body },
});


const post = (author: UserRef, clientMessageId: string, body = 'hello'): RoomCommand => ({
  type: 'PostMessage',
  author,
  clientMessageId,
  body,
});

describe('room aggregate: evolve', () => {
  it('starts empty at revision 0', () => {
    const state = initialRoomState();
    expect(state).toMatchObject({ revision: 0, room: null });
    expect(state.members.size).toBe(0);
    expect(state.messages.size).toBe(0);
  });

  it('folds creation, joins, leaves, posts and deletes, tracking the revision', () => {
    const state = given(
      created(ROOM, { name: 'General', passwordHash: 'hash' }),
      joined(ROOM, alice),
      joined(ROOM, bob),
      left(ROOM, alice),
      posted(ROOM, 'm1', 'hi', bob),
      deleted(ROOM, 'm1'),
    );
    expect(state.revision).toBe(6);
    expect(state.room).toEqual({ id: ROOM, name: 'General', passwordHash: 'hash', createdBy: alice });
    expect([...state.members.keys()]).toEqual([bob.id]);
    expect(state.messages.get('m1')).toEqual({ authorId: bob.id, seq: 5, deleted: true });
  });

  it('ignores a delete of a message it never saw', () => {
    const state = givenRoom(deleted(ROOM, 'unknown'));
    expect(state.messages.size).toBe(0);
    expect(state.revision).toBe(3);
  });
});

describe('room aggregate: CreateRoom', () => {
  const create: RoomCommand = { type: 'CreateRoom', roomId: ROOM, name: 'General', passwordHash: null, by: alice };

  it('when the room does not exist: RoomCreated then the creator joins, each with a fresh UUID', () => {
    const events = decide(given(), create);
    expect(events.map((e) => e.type)).toEqual(['RoomCreated', 'MemberJoined']);
    expect(events[0]!.data).toEqual({ roomId: ROOM, name: 'General', passwordHash: null, createdBy: alice });
    expect(events[1]!.data).toEqual({ roomId: ROOM, user: alice });
    expect(events[0]!.id).toMatch(UUID);
    expect(events[1]!.id).toMatch(UUID);
    expect(events[0]!.id).not.toBe(events[1]!.id);
  });

  it('keeps the password hash of a private room', () => {
    const [event] = decide(given(), { ...create, passwordHash: 'scrypt$abc' });
    expect(event).toMatchObject({ type: 'RoomCreated', data: { passwordHash: 'scrypt$abc' } });
  });

  it('when the room already exists: BAD_USER_INPUT', () => {
    const state = given(...decide(given(), create));
    expectChatError(() => decide(state, create), 'BAD_USER_INPUT');
  });
});

describe('room aggregate: commands on a missing room', () => {
  const commands: RoomCommand[] = [
    { type: 'JoinRoom', user: bob, passwordAccepted: true },
    { type: 'LeaveRoom', user: bob },
    post(bob, 'c1'),
    { type: 'EditMessage', by: bob, messageId: 'x~y', body: 'b' },
    { type: 'DeleteMessage', by: bob, messageId: 'x~y' },
  ];
  for (const command of commands) {
    it(`${command.type} → NOT_FOUND`, () => {
      expectChatError(() => decide(given(), command), 'NOT_FOUND');
    });
  }
});

describe('room aggregate: JoinRoom', () => {
  it('public room: anyone joins', () => {
    const events = decide(givenRoom(), { type: 'JoinRoom', user: bob, passwordAccepted: false });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'MemberJoined', data: { roomId: ROOM, user: bob } });
    expect(events[0]!.id).toMatch(UUID);
  });

  it('private room with the password accepted: joins', () => {
    const state = given(created(ROOM, { passwordHash: 'h' }), joined(ROOM, alice));
    const events = decide(state, { type: 'JoinRoom', user: bob, passwordAccepted: true });
    expect(events.map((e) => e.type)).toEqual(['MemberJoined']);
  });

  it('private room with the password refused: FORBIDDEN', () => {
    const state = given(created(ROOM, { passwordHash: 'h' }), joined(ROOM, alice));
    expectChatError(() => decide(state, { type: 'JoinRoom', user: bob, passwordAccepted: false }), 'FORBIDDEN');
  });

  it('already a member: no events (even in a private room without the password)', () => {
    expect(decide(givenRoom(), { type: 'JoinRoom', user: alice, passwordAccepted: false })).toEqual([]);
    const priv = given(created(ROOM, { passwordHash: 'h' }), joined(ROOM, alice));
    expect(decide(priv, { type: 'JoinRoom', user: alice, passwordAccepted: false })).toEqual([]);
  });

  it('after leaving, joining again emits a new MemberJoined', () => {
    const state = givenRoom(left(ROOM, alice));
    expect(decide(state, { type: 'JoinRoom', user: alice, passwordAccepted: false }).map((e) => e.type)).toEqual([
      'MemberJoined',
    ]);
  });
});

describe('room aggregate: LeaveRoom', () => {
  it('a member leaves', () => {
    const events = decide(givenRoom(joined(ROOM, bob)), { type: 'LeaveRoom', user: bob });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'MemberLeft', data: { roomId: ROOM, user: bob } });
  });

  it('not a member: no events', () => {
    expect(decide(givenRoom(), { type: 'LeaveRoom', user: bob })).toEqual([]);
  });

  it('already left: no events', () => {
    expect(decide(givenRoom(joined(ROOM, bob), left(ROOM, bob)), { type: 'LeaveRoom', user: bob })).toEqual([]);
  });
});

describe('room aggregate: PostMessage', () => {
  it('a member posts: one MessagePosted whose id is postEventId and whose messageId carries the room', () => {
    const events = decide(givenRoom(), post(alice, 'c1', 'hello'));
    const id = postEventId(ROOM, alice.id, 'c1');
    expect(events).toEqual([
      {
        id,
        type: 'MessagePosted',
        data: { roomId: ROOM, messageId: messageIdFor(ROOM, id), clientMessageId: 'c1', author: alice, body: 'hello' },
      },
    ]);
  });

  it('the event id is deterministic: deciding the same command twice gives the same id', () => {
    const first = decide(givenRoom(), post(alice, 'c1'));
    const second = decide(givenRoom(), post(alice, 'c1', 'a different body'));
    expect(first[0]!.id).toBe(second[0]!.id);
  });

  it('a non-member: FORBIDDEN', () => {
    expectChatError(() => decide(givenRoom(), post(bob, 'c1')), 'FORBIDDEN');
  });

  it('a member who left: FORBIDDEN', () => {
    expectChatError(() => decide(givenRoom(joined(ROOM, bob), left(ROOM, bob)), post(bob, 'c1')), 'FORBIDDEN');
  });

  it('a resend with the same clientMessageId by the same author: no events', () => {
    const state = givenRoom(...decide(givenRoom(), post(alice, 'c1')));
    expect(decide(state, post(alice, 'c1'))).toEqual([]);
  });

  it('a resend after the author left: still no events, not FORBIDDEN', () => {
    const state = givenRoom(postedBy(alice, 'c1'), left(ROOM, alice));
    expect(decide(state, post(alice, 'c1'))).toEqual([]);
  });

  it('a resend of a message since deleted: no events', () => {
    const state = givenRoom(postedBy(alice, 'c1'), deleted(ROOM, messageOf(alice, 'c1')));
    expect(decide(state, post(alice, 'c1'))).toEqual([]);
  });

  it('the same clientMessageId from another author: a new message with a different id', () => {
    const state = givenRoom(joined(ROOM, bob), postedBy(alice, 'c1'));
    const events = decide(state, post(bob, 'c1'));
    expect(events).toHaveLength(1);
    expect(events[0]!.id).toBe(postEventId(ROOM, bob.id, 'c1'));
    expect(events[0]!.id).not.toBe(postEventId(ROOM, alice.id, 'c1'));
    expect(events[0]).toMatchObject({ type: 'MessagePosted', data: { author: bob, clientMessageId: 'c1' } });
  });

  it('another clientMessageId from the same author: a new message', () => {
    const state = givenRoom(postedBy(alice, 'c1'));
    expect(decide(state, post(alice, 'c2'))).toHaveLength(1);
  });
});

describe('room aggregate: EditMessage and DeleteMessage', () => {
  const mine = messageOf(alice, 'c1');
  const withMessage = () => givenRoom(joined(ROOM, bob), postedBy(alice, 'c1'));
  const edit = (by: UserRef, messageId = mine, body = 'fixed'): RoomCommand => ({ type: 'EditMessage', by, messageId, body });
  const del = (by: UserRef, messageId = mine): RoomCommand => ({ type: 'DeleteMessage', by, messageId });

  it('the author edits: MessageEdited with the new body', () => {
    const events = decide(withMessage(), edit(alice));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'MessageEdited', data: { roomId: ROOM, messageId: mine, body: 'fixed' } });
    expect(events[0]!.id).toMatch(UUID);
  });

  it('the author deletes: MessageDeleted', () => {
    const events = decide(withMessage(), del(alice));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'MessageDeleted', data: { roomId: ROOM, messageId: mine } });
  });

  it('someone else edits or deletes: FORBIDDEN', () => {
    expectChatError(() => decide(withMessage(), edit(bob)), 'FORBIDDEN');
    expectChatError(() => decide(withMessage(), del(bob)), 'FORBIDDEN');
  });

  it('someone else deletes an already deleted message: still FORBIDDEN', () => {
    const state = withMessage();
    evolve(state, deleted(ROOM, mine), state.revision + 1);
    expectChatError(() => decide(state, del(bob)), 'FORBIDDEN');
  });

  it('an unknown message: NOT_FOUND', () => {
    expectChatError(() => decide(withMessage(), edit(alice, `${ROOM}~nope`)), 'NOT_FOUND');
    expectChatError(() => decide(withMessage(), del(alice, `${ROOM}~nope`)), 'NOT_FOUND');
  });

  it('edit a deleted message: BAD_USER_INPUT', () => {
    const state = withMessage();
    evolve(state, deleted(ROOM, mine), state.revision + 1);
    expectChatError(() => decide(state, edit(alice)), 'BAD_USER_INPUT');
  });

  it('delete twice: the second decides nothing', () => {
    const state = withMessage();
    for (const event of decide(state, del(alice))) evolve(state, event, state.revision + 1);
    expect(decide(state, del(alice))).toEqual([]);
  });

  it('an edited message can be edited again (edits do not change the aggregate)', () => {
    const state = withMessage();
    for (const event of decide(state, edit(alice))) evolve(state, event, state.revision + 1);
    expect(decide(state, edit(alice, mine, 'again')).map((e) => e.type)).toEqual(['MessageEdited']);
  });
});
