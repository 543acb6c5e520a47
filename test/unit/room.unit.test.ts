import { describe, expect, it } from 'vitest';
import { evolve, initialRoomState, snapshotOf, type RoomState } from '../../src/domain/room.js';
import type { RoomEventBody, RoomSnapshot } from '../../src/domain/events.js';
import { alice, bob, created, deleted, joined, left, posted } from './fixtures.js';

/*
 * How the room folds its events. What it decides (every rule, as given/when/then) is in
 * roomDecider.unit.test.ts.
 */

const ROOM = 'room1';

/** Given: the state folded from these events, at seq 1, 2, 3, … */
function given(...events: RoomEventBody[]): RoomState {
  return events.reduce((state, event, i) => evolve(state, event, i + 1), initialRoomState());
}

/** Given a room created by Alice (who is a member), plus more events. */
const givenRoom = (...more: RoomEventBody[]) => given(created(ROOM), joined(ROOM, alice), ...more);
const trimmed = (beforeSeq: number, room?: RoomSnapshot): RoomEventBody => ({ type: 'HistoryTrimmed', data: { roomId: ROOM, beforeSeq, ...(room ? { room } : {}) } });

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

  it('a trim removes the messages below it, and a later, lower one does not bring the bar down', () => {
    const state = givenRoom(posted(ROOM, 'm3', 'a'), posted(ROOM, 'm4', 'b'), trimmed(4), trimmed(2));
    expect([...state.messages.keys()]).toEqual(['m4']);
    expect(state).toMatchObject({ revision: 6, trimmedBefore: 4, foldableFrom: 1 });
  });

  it('a trim carrying a snapshot replaces the room and its members, and the room folds from it', () => {
    const snapshot = { name: 'renamed', passwordHash: 'h', createdBy: bob, members: [bob] };
    const state = givenRoom(joined(ROOM, bob), trimmed(1, snapshot));
    expect(state.room).toEqual({ id: ROOM, name: 'renamed', passwordHash: 'h', createdBy: bob });
    expect([...state.members.keys()]).toEqual([bob.id]);
    expect(state.foldableFrom).toBe(4);
    expect(snapshotOf(state)).toEqual(snapshot);
  });

  it('has no snapshot before the room exists', () => {
    expect(snapshotOf(initialRoomState())).toBeNull();
  });
});
