import { describe, expect, it } from 'vitest';
import { historyKey, projectMessage } from '../../projections/history.js';
import { projectRoom } from '../../projections/rooms.js';
import { applyPresence, emptyPresence, presenceView, type RoomPresence } from '../../src/presence/presenceView.js';
import type { RoomEvent } from '../../src/domain/events.js';
import type { MessageView, RoomView } from '../../projections/views.js';
import { alice, bob, created, deleted, edited, joined, left, posted, stored } from './fixtures.js';

const R = 'r1';

/** Folds stored events through a `project(view, event) → view` function. */
const fold = <V>(project: (view: V | undefined, event: RoomEvent) => V | undefined, events: RoomEvent[]) =>
  events.reduce<V | undefined>((view, event) => project(view, event), undefined);

describe('history projection: historyKey', () => {
  it('is the message id for message events', () => {
    expect(historyKey(stored(posted(R, 'm1', 'x'), 1))).toBe('m1');
    expect(historyKey(stored(edited(R, 'm1', 'y'), 2))).toBe('m1');
    expect(historyKey(stored(deleted(R, 'm1'), 3))).toBe('m1');
  });

  it('is null for room and membership events', () => {
    expect(historyKey(stored(created(R), 1))).toBeNull();
    expect(historyKey(stored(joined(R, alice), 2))).toBeNull();
    expect(historyKey(stored(left(R, alice), 3))).toBeNull();
  });
});

describe('history projection: projectMessage', () => {
  const post = stored(posted(R, 'm1', 'hello', bob), 4, 40, 1_000);

  it('given nothing, when posted: the message with its seq, author and createdAt', () => {
    expect(projectMessage(undefined, post)).toEqual<MessageView>({
      id: 'm1',
      clientMessageId: 'c-m1',
      roomId: R,
      seq: 4,
      author: bob,
      body: 'hello',
      createdAt: 1_000,
      editedAt: null,
      deleted: false,
    });
  });

  it('given a message, when edited: new body and editedAt; seq and createdAt stay', () => {
    const view = fold(projectMessage, [post, stored(edited(R, 'm1', 'hello!'), 7, 70, 5_000)]);
    expect(view).toMatchObject({ body: 'hello!', editedAt: 5_000, seq: 4, createdAt: 1_000, deleted: false });
  });

  it('does not mutate the view it is given', () => {
    const before = projectMessage(undefined, post)!;
    const snapshot = structuredClone(before);
    projectMessage(before, stored(edited(R, 'm1', 'changed'), 5));
    projectMessage(before, stored(deleted(R, 'm1'), 6));
    expect(before).toEqual(snapshot);
  });

  it('given a message, when deleted: body "" and deleted', () => {
    const view = fold(projectMessage, [post, stored(deleted(R, 'm1'), 5)]);
    expect(view).toMatchObject({ body: '', deleted: true, seq: 4 });
  });

  it('given a deleted message, when edited: unchanged (same object)', () => {
    const gone = fold(projectMessage, [post, stored(deleted(R, 'm1'), 5)]);
    expect(projectMessage(gone, stored(edited(R, 'm1', 'zombie'), 6))).toBe(gone);
  });

  it('given nothing (retention dropped the post), an edit or delete leaves it absent', () => {
    expect(projectMessage(undefined, stored(edited(R, 'm1', 'x'), 6))).toBeUndefined();
    expect(projectMessage(undefined, stored(deleted(R, 'm1'), 6))).toBeUndefined();
  });

  it('non-message events leave the view as it is', () => {
    const view = projectMessage(undefined, post);
    expect(projectMessage(view, stored(joined(R, alice), 9))).toBe(view);
  });
});

describe('rooms projection: projectRoom', () => {
  it('given nothing, when created: the room, public, with no members yet', () => {
    expect(projectRoom(undefined, stored(created(R, { name: 'General' }), 1, 10, 123))).toEqual<RoomView>({
      id: R,
      name: 'General',
      private: false,
      createdBy: alice,
      createdAt: 123,
      lastActivityAt: 123,
      headSeq: 1,
      oldestSeq: 1,
      memberCount: 0,
    });
  });

  it('orders by activity: every event moves lastActivityAt forward, never back', () => {
    let view = projectRoom(undefined, stored(created(R), 1, 1, 100));
    view = projectRoom(view, stored(joined(R, bob), 2, 2, 500));
    expect(view?.lastActivityAt).toBe(500);
    view = projectRoom(view, stored(left(R, bob), 3, 3, 400));
    expect(view?.lastActivityAt).toBe(500);
  });

  it('a rename is not activity: headSeq moves, lastActivityAt stays (a user in many rooms must not lift them all to the top of the list)', () => {
    let view = projectRoom(undefined, stored(created(R), 1, 1, 100));
    view = projectRoom(view, stored(joined(R, bob), 2, 2, 500));
    view = projectRoom(view, stored({ type: 'MemberRenamed', data: { roomId: R, user: { id: bob.id, name: 'Robert' }, previousName: bob.name } }, 3, 3, 900));
    expect(view).toMatchObject({ headSeq: 3, lastActivityAt: 500, memberCount: 1 });
  });

  it('a room with a password hash is private', () => {
    expect(projectRoom(undefined, stored(created(R, { passwordHash: 'h' }), 1))?.private).toBe(true);
  });

  it('joins and leaves count members; every event moves headSeq', () => {
    const view = fold(projectRoom, [
      stored(created(R), 1),
      stored(joined(R, alice), 2),
      stored(joined(R, bob), 3),
      stored(posted(R, 'm1', 'x'), 4),
      stored(left(R, bob), 5),
      stored(edited(R, 'm1', 'y'), 6),
      stored(deleted(R, 'm1'), 7),
    ]);
    expect(view).toMatchObject({ memberCount: 1, headSeq: 7, oldestSeq: 1 });
  });

  it('headSeq never goes back', () => {
    const view = fold(projectRoom, [stored(created(R), 1), stored(joined(R, alice), 5), stored(posted(R, 'm', 'x'), 3)]);
    expect(view?.headSeq).toBe(5);
  });

  it('does not mutate the view it is given', () => {
    const view = projectRoom(undefined, stored(created(R), 1))!;
    projectRoom(view, stored(joined(R, alice), 2));
    expect(view).toMatchObject({ headSeq: 1, memberCount: 0 });
  });

  it('given no room, other events leave it absent', () => {
    expect(projectRoom(undefined, stored(joined(R, alice), 2))).toBeUndefined();
    expect(projectRoom(undefined, stored(posted(R, 'm', 'x'), 3))).toBeUndefined();
  });
});

describe('presence projection', () => {
  const given = (...signals: Parameters<typeof applyPresence>[1][]): RoomPresence => {
    const state = emptyPresence();
    for (const signal of signals) applyPresence(state, signal);
    return state;
  };
  const connect = (user = alice, connectionId = 'c1') => ({ type: 'Connected', user, connectionId }) as const;
  const disconnect = (userId = alice.id, connectionId = 'c1') => ({ type: 'Disconnected', userId, connectionId }) as const;
  const typing = (user = alice, on = true, until = 10_000) => ({ type: 'Typing', user, typing: on, until }) as const;

  it('empty: nobody online or typing', () => {
    expect(presenceView(R, emptyPresence())).toEqual({ roomId: R, count: 0, online: [], typing: [] });
  });

  it('first connection of a user: online, changed', () => {
    const state = emptyPresence();
    expect(applyPresence(state, connect())).toBe(true);
    expect(presenceView(R, state)).toEqual({ roomId: R, count: 1, online: [alice], typing: [] });
  });

  it('second connection of the same user: still one user, not changed', () => {
    const state = given(connect(alice, 'c1'));
    expect(applyPresence(state, connect(alice, 'c2'))).toBe(false);
    expect(presenceView(R, state).count).toBe(1);
  });

  it('the same connection twice: not changed', () => {
    const state = given(connect());
    expect(applyPresence(state, connect())).toBe(false);
  });

  it('disconnect of one of two connections: still online, not changed, still typing', () => {
    const state = given(connect(alice, 'c1'), connect(alice, 'c2'), typing());
    expect(applyPresence(state, disconnect(alice.id, 'c1'))).toBe(false);
    expect(presenceView(R, state)).toMatchObject({ count: 1, online: [alice], typing: [alice] });
  });

  it('disconnect of the last connection: offline, typing cleared, changed', () => {
    const state = given(connect(alice, 'c1'), connect(alice, 'c2'), connect(bob, 'c3'), typing(alice));
    applyPresence(state, disconnect(alice.id, 'c1'));
    expect(applyPresence(state, disconnect(alice.id, 'c2'))).toBe(true);
    expect(presenceView(R, state)).toEqual({ roomId: R, count: 1, online: [bob], typing: [] });
  });

  it('disconnect of an unknown user or connection: not changed', () => {
    const state = given(connect(alice, 'c1'));
    expect(applyPresence(state, disconnect(bob.id, 'c1'))).toBe(false);
    expect(applyPresence(state, disconnect(alice.id, 'other'))).toBe(false);
    expect(presenceView(R, state).count).toBe(1);
  });

  it('a repeated disconnect of the last connection: changed only the first time', () => {
    const state = given(connect());
    expect(applyPresence(state, disconnect())).toBe(true);
    expect(applyPresence(state, disconnect())).toBe(false);
  });

  it('typing on: changed; on again (renewal): not changed; off: changed; off again: not changed', () => {
    const state = given(connect());
    expect(applyPresence(state, typing(alice, true, 1_000))).toBe(true);
    expect(presenceView(R, state).typing).toEqual([alice]);
    expect(applyPresence(state, typing(alice, true, 2_000))).toBe(false);
    expect(applyPresence(state, typing(alice, false))).toBe(true);
    expect(presenceView(R, state).typing).toEqual([]);
    expect(applyPresence(state, typing(alice, false))).toBe(false);
  });

  it('Tick lapses typing whose until has come, and only those', () => {
    const state = given(connect(alice), connect(bob, 'c2'), typing(alice, true, 1_000), typing(bob, true, 2_000));
    expect(applyPresence(state, { type: 'Tick', now: 999 })).toBe(false);
    expect(presenceView(R, state).typing).toEqual([alice, bob]);
    expect(applyPresence(state, { type: 'Tick', now: 1_000 })).toBe(true);
    expect(presenceView(R, state).typing).toEqual([bob]);
    expect(applyPresence(state, { type: 'Tick', now: 1_500 })).toBe(false);
    expect(applyPresence(state, { type: 'Tick', now: 5_000 })).toBe(true);
    expect(presenceView(R, state)).toMatchObject({ count: 2, typing: [] });
  });

  it('a renewed typing flag lapses at the new until', () => {
    const state = given(connect(), typing(alice, true, 1_000), typing(alice, true, 3_000));
    expect(applyPresence(state, { type: 'Tick', now: 2_000 })).toBe(false);
    expect(presenceView(R, state).typing).toEqual([alice]);
  });
});
