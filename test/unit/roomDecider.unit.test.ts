import { describe, expect, it } from 'vitest';
import { roomDecider, type RoomCommand } from '../../src/domain/room.js';
import { messageIdFor, postEventId } from '../../src/domain/ids.js';
import type { RoomEventBody, UserRef } from '../../src/domain/events.js';
import { ForbiddenError, InvalidInputError, NotFoundError } from '../../src/domain/errors.js';
import { DeciderSpecification } from '../support/deciderSpecification.js';
import { alice, bob, created, deleted, edited, joined, left } from './fixtures.js';

/*
 * Every rule of the room (src/domain/room.ts) as given/when/then: the events so far, a command,
 * and what the room decides. The given events sit at seq 1, 2, 3, … in order.
 */
const room = DeciderSpecification.for(roomDecider);

const ROOM = 'room1';
const UUID = expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

/** The message id that a PostMessage from `author` with `clientMessageId` gets. */
const messageOf = (author: UserRef, clientMessageId: string) => messageIdFor(ROOM, postEventId(ROOM, author.id, clientMessageId));
/** A message posted by `author` through the domain's own id scheme. */
const postedBy = (author: UserRef, clientMessageId: string, body = 'hi'): RoomEventBody => ({
  type: 'MessagePosted',
  data: { roomId: ROOM, messageId: messageOf(author, clientMessageId), clientMessageId, author, body },
});
const trimmed = (beforeSeq: number): RoomEventBody => ({ type: 'HistoryTrimmed', data: { roomId: ROOM, beforeSeq } });

/** A public room created by Alice (who is a member): seq 1 and 2. */
const aRoom = [created(ROOM, { name: 'General' }), joined(ROOM, alice)];
const aPrivateRoom = [created(ROOM, { passwordHash: 'h' }), joined(ROOM, alice)];

const create: RoomCommand = { type: 'CreateRoom', roomId: ROOM, name: 'General', passwordHash: null, by: alice };
const join = (user: UserRef, passwordAccepted = false): RoomCommand => ({ type: 'JoinRoom', user, passwordAccepted });
const leave = (user: UserRef): RoomCommand => ({ type: 'LeaveRoom', user });
const post = (author: UserRef, clientMessageId: string, body = 'hello'): RoomCommand => ({ type: 'PostMessage', author, clientMessageId, body });
const edit = (by: UserRef, messageId = messageOf(alice, 'c1'), body = 'fixed'): RoomCommand => ({ type: 'EditMessage', by, messageId, body });
const del = (by: UserRef, messageId = messageOf(alice, 'c1')): RoomCommand => ({ type: 'DeleteMessage', by, messageId });
const trim = (beforeSeq: number, carrySnapshot?: boolean): RoomCommand => ({ type: 'TrimHistory', beforeSeq, ...(carrySnapshot ? { carrySnapshot } : {}) });

describe('room: CreateRoom', () => {
  it('a new room: RoomCreated, then the creator joins, each with its own fresh UUID', () => {
    const [first, second] = room
      .given([])
      .when(create)
      .then([
        { id: UUID, type: 'RoomCreated', data: { roomId: ROOM, name: 'General', passwordHash: null, createdBy: alice } },
        { id: UUID, type: 'MemberJoined', data: { roomId: ROOM, user: alice } },
      ]);
    expect(first!.id).not.toBe(second!.id);
  });

  it('a private room keeps its password hash', () => {
    room
      .given([])
      .when({ ...create, passwordHash: 'scrypt$abc' })
      .then([
        { type: 'RoomCreated', data: { roomId: ROOM, name: 'General', passwordHash: 'scrypt$abc', createdBy: alice } },
        { type: 'MemberJoined', data: { roomId: ROOM, user: alice } },
      ]);
  });

  it('a room that already exists: refused as invalid input', () => {
    room.given(aRoom).when(create).thenThrows(InvalidInputError, (error) => /already exists/.test(error.message));
  });
});

describe('room: any other command on a room that does not exist', () => {
  const commands = [join(bob, true), leave(bob), post(bob, 'c1'), edit(bob, 'x~y'), del(bob, 'x~y'), trim(1), trim(1, true)];
  for (const command of commands) {
    it(`${command.type}${'carrySnapshot' in command ? ' (carrying a snapshot)' : ''}: room not found`, () => {
      room.given([]).when(command).thenThrows(NotFoundError, (error) => error.message === 'room not found');
    });
  }
});

describe('room: JoinRoom', () => {
  it('a public room: anyone joins, with a fresh UUID', () => {
    room.given(aRoom).when(join(bob)).then([{ id: UUID, type: 'MemberJoined', data: { roomId: ROOM, user: bob } }]);
  });

  it('a private room, the password accepted: joins', () => {
    room.given(aPrivateRoom).when(join(bob, true)).then([{ type: 'MemberJoined', data: { roomId: ROOM, user: bob } }]);
  });

  it('a private room, the password refused: forbidden', () => {
    room.given(aPrivateRoom).when(join(bob, false)).thenThrows(ForbiddenError, (error) => /wrong password/.test(error.message));
  });

  it('already a member: nothing (in a public room)', () => {
    room.given(aRoom).when(join(alice)).thenNothing();
  });

  it('already a member: nothing, even in a private room without the password', () => {
    room.given(aPrivateRoom).when(join(alice, false)).thenNothing();
  });

  it('joining twice: the second join changes nothing', () => {
    room.given([...aRoom, joined(ROOM, bob)]).when(join(bob)).thenNothing();
  });

  it('after leaving, joining again is a new MemberJoined', () => {
    room.given([...aRoom, left(ROOM, alice)]).when(join(alice)).then([{ type: 'MemberJoined', data: { roomId: ROOM, user: alice } }]);
  });
});

describe('room: LeaveRoom', () => {
  it('a member leaves', () => {
    room.given([...aRoom, joined(ROOM, bob)]).when(leave(bob)).then([{ id: UUID, type: 'MemberLeft', data: { roomId: ROOM, user: bob } }]);
  });

  it('not a member: nothing', () => {
    room.given(aRoom).when(leave(bob)).thenNothing();
  });

  it('already left: nothing', () => {
    room.given([...aRoom, joined(ROOM, bob), left(ROOM, bob)]).when(leave(bob)).thenNothing();
  });
});

describe('room: RenameMember', () => {
  const bobRenamed = { ...bob, name: 'Robert' };
  const rename = (user: UserRef): RoomCommand => ({ type: 'RenameMember', user });

  it('a member takes a new name: MemberRenamed with the one it had', () => {
    room
      .given([...aRoom, joined(ROOM, bob)])
      .when(rename(bobRenamed))
      .then([{ id: UUID, type: 'MemberRenamed', data: { roomId: ROOM, user: bobRenamed, previousName: 'Bob' } }]);
  });

  it('the same name again, or not a member: nothing', () => {
    room.given([...aRoom, joined(ROOM, bob)]).when(rename(bob)).thenNothing();
    room.given(aRoom).when(rename(bobRenamed)).thenNothing();
    room.given([...aRoom, joined(ROOM, bob), left(ROOM, bob)]).when(rename(bobRenamed)).thenNothing();
  });

  it('renamed twice: the second says the name the first gave; the member stays a member', () => {
    const renamed: RoomEventBody = { type: 'MemberRenamed', data: { roomId: ROOM, user: bobRenamed, previousName: 'Bob' } };
    room
      .given([...aRoom, joined(ROOM, bob), renamed])
      .when(rename({ ...bob, name: 'Rob' }))
      .then([{ id: UUID, type: 'MemberRenamed', data: { roomId: ROOM, user: { ...bob, name: 'Rob' }, previousName: 'Robert' } }]);
    room.given([...aRoom, joined(ROOM, bob), renamed]).when(post(bob, 'c1')).then([expect.objectContaining({ type: 'MessagePosted' })]);
    room.given([...aRoom, joined(ROOM, bob), renamed]).when(trim(1, true)).then([
      { id: UUID, type: 'HistoryTrimmed', data: { roomId: ROOM, beforeSeq: 1, room: { name: 'General', passwordHash: null, createdBy: alice, members: [alice, bobRenamed] } } },
    ]);
  });
});

describe('room: PostMessage', () => {
  it('a member posts: the event id is postEventId, and the message id carries the room', () => {
    const id = postEventId(ROOM, alice.id, 'c1');
    room
      .given(aRoom)
      .when(post(alice, 'c1', 'hello'))
      .then([{ id, type: 'MessagePosted', data: { roomId: ROOM, messageId: messageIdFor(ROOM, id), clientMessageId: 'c1', author: alice, body: 'hello' } }]);
  });

  it('the event id is deterministic: the same client id decides the same id, whatever the body', () => {
    const [first] = room.given(aRoom).when(post(alice, 'c1')).then([postedBy(alice, 'c1', 'hello')]);
    const [second] = room.given(aRoom).when(post(alice, 'c1', 'a different body')).then([postedBy(alice, 'c1', 'a different body')]);
    expect(first!.id).toBe(second!.id);
  });

  it('a non-member: forbidden', () => {
    room.given(aRoom).when(post(bob, 'c1')).thenThrows(ForbiddenError, (error) => /join the room/.test(error.message));
  });

  it('a member who left: forbidden', () => {
    room.given([...aRoom, joined(ROOM, bob), left(ROOM, bob)]).when(post(bob, 'c1')).thenThrows(ForbiddenError);
  });

  it('a resend (same author, same client id): nothing, so the send is idempotent', () => {
    room.given([...aRoom, postedBy(alice, 'c1')]).when(post(alice, 'c1')).thenNothing();
  });

  it('a resend after the author left: still nothing, not forbidden', () => {
    room.given([...aRoom, postedBy(alice, 'c1'), left(ROOM, alice)]).when(post(alice, 'c1')).thenNothing();
  });

  it('a resend of a message since deleted: nothing', () => {
    room.given([...aRoom, postedBy(alice, 'c1'), deleted(ROOM, messageOf(alice, 'c1'))]).when(post(alice, 'c1')).thenNothing();
  });

  it('the same client id from another author: a new message with its own id', () => {
    const id = postEventId(ROOM, bob.id, 'c1');
    expect(id).not.toBe(postEventId(ROOM, alice.id, 'c1'));
    room
      .given([...aRoom, joined(ROOM, bob), postedBy(alice, 'c1')])
      .when(post(bob, 'c1'))
      .then([{ id, type: 'MessagePosted', data: { roomId: ROOM, messageId: messageIdFor(ROOM, id), clientMessageId: 'c1', author: bob, body: 'hello' } }]);
  });

  it('another client id from the same author: a new message', () => {
    room.given([...aRoom, postedBy(alice, 'c1')]).when(post(alice, 'c2')).then([postedBy(alice, 'c2', 'hello')]);
  });
});

describe('room: EditMessage and DeleteMessage', () => {
  const mine = messageOf(alice, 'c1');
  const withMessage = [...aRoom, joined(ROOM, bob), postedBy(alice, 'c1')];

  it('the author edits: MessageEdited with the new body', () => {
    room.given(withMessage).when(edit(alice)).then([{ id: UUID, type: 'MessageEdited', data: { roomId: ROOM, messageId: mine, body: 'fixed' } }]);
  });

  it('the author deletes: MessageDeleted', () => {
    room.given(withMessage).when(del(alice)).then([{ id: UUID, type: 'MessageDeleted', data: { roomId: ROOM, messageId: mine } }]);
  });

  it('someone else edits or deletes: forbidden', () => {
    room.given(withMessage).when(edit(bob)).thenThrows(ForbiddenError, (error) => /only the author/.test(error.message));
    room.given(withMessage).when(del(bob)).thenThrows(ForbiddenError, (error) => /only the author/.test(error.message));
  });

  it('someone else deletes an already deleted message: still forbidden', () => {
    room.given([...withMessage, deleted(ROOM, mine)]).when(del(bob)).thenThrows(ForbiddenError);
  });

  it('a message that never existed: message not found', () => {
    room.given(withMessage).when(edit(alice, `${ROOM}~nope`)).thenThrows(NotFoundError, (error) => error.message === 'message not found');
    room.given(withMessage).when(del(alice, `${ROOM}~nope`)).thenThrows(NotFoundError, (error) => error.message === 'message not found');
  });

  it('edit a deleted message: refused as invalid input', () => {
    room.given([...withMessage, deleted(ROOM, mine)]).when(edit(alice)).thenThrows(InvalidInputError, (error) => /deleted/.test(error.message));
  });

  it('delete twice: the second decides nothing', () => {
    room.given([...withMessage, deleted(ROOM, mine)]).when(del(alice)).thenNothing();
  });

  it('an edited message can be edited again (edits do not change the room)', () => {
    room.given([...withMessage, edited(ROOM, mine, 'fixed')]).when(edit(alice, mine, 'again')).then([{ type: 'MessageEdited', data: { roomId: ROOM, messageId: mine, body: 'again' } }]);
  });
});

describe('room: TrimHistory', () => {
  // Seq 1 created, 2 alice joins, 3 bob joins, 4 alice leaves, 5 and 6 two messages by bob.
  const history = [...aRoom, joined(ROOM, bob), left(ROOM, alice), postedBy(bob, 'c1'), postedBy(bob, 'c2')];
  const snapshot = { name: 'General', passwordHash: null, createdBy: alice, members: [bob] };

  it('without a snapshot: HistoryTrimmed up to the given seq', () => {
    room.given(history).when(trim(6)).then([{ id: UUID, type: 'HistoryTrimmed', data: { roomId: ROOM, beforeSeq: 6 } }]);
  });

  it('never past the end of the stream: the trim point stops at the next seq', () => {
    room.given(history).when(trim(100)).then([trimmed(7)]);
  });

  it('never backwards: a trim point at or before the current one decides nothing', () => {
    room.given([...history, trimmed(6)]).when(trim(6)).thenNothing();
    room.given([...history, trimmed(6)]).when(trim(3)).thenNothing();
  });

  it('a cut that would remove no message decides nothing (a quiet room, or only joins below it)', () => {
    room.given(history).when(trim(5)).thenNothing();
    room.given([...history, trimmed(7)]).when(trim(8)).thenNothing();
  });

  it('by count: keeps the newest messages, counted as messages, not seqs', () => {
    room.given(history).when({ type: 'TrimHistory', beforeSeq: 1, keepMessages: 1 }).then([trimmed(6)]);
    room.given(history).when({ type: 'TrimHistory', beforeSeq: 1, keepMessages: 2 }).thenNothing();
    // The trim event's own seq (7) does not make the next run cut again.
    room.given([...history, trimmed(6)]).when({ type: 'TrimHistory', beforeSeq: 1, keepMessages: 1 }).thenNothing();
  });

  it('with a snapshot: carries the room as it is (name, password, creator, members), even when no more messages go', () => {
    room
      .given(history)
      .when(trim(1, true))
      .then([{ id: UUID, type: 'HistoryTrimmed', data: { roomId: ROOM, beforeSeq: 1, room: snapshot } }]);
  });

  it('with a snapshot: never moves the trim point backwards either', () => {
    room.given([...history, trimmed(6)]).when(trim(3, true)).then([{ type: 'HistoryTrimmed', data: { roomId: ROOM, beforeSeq: 6, room: snapshot } }]);
  });

  it('after a trim, a removed message is not found: editing or deleting it', () => {
    const removed = messageOf(bob, 'c1');
    room.given([...history, trimmed(6)]).when(edit(bob, removed)).thenThrows(NotFoundError, (error) => error.message === 'message not found');
    room.given([...history, trimmed(6)]).when(del(bob, removed)).thenThrows(NotFoundError);
  });

  it('after a trim, a kept message still is: its author deletes it', () => {
    const kept = messageOf(bob, 'c2');
    room.given([...history, trimmed(6)]).when(del(bob, kept)).then([{ type: 'MessageDeleted', data: { roomId: ROOM, messageId: kept } }]);
  });

  it('a room folded from a snapshot alone: its members post, others are refused', () => {
    const fromSnapshot: RoomEventBody[] = [{ type: 'HistoryTrimmed', data: { roomId: ROOM, beforeSeq: 1, room: snapshot } }];
    room.given(fromSnapshot).when(post(bob, 'c9')).then([postedBy(bob, 'c9', 'hello')]);
    room.given(fromSnapshot).when(post(alice, 'c9')).thenThrows(ForbiddenError);
  });
});
