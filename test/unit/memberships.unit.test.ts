/** The memberships projection (projections/memberships.ts): which event changes whose membership, and how. */
import { describe, expect, it } from 'vitest';
import { applyMembership, membershipChange } from '../../projections/memberships.js';
import { alice, bob, created, joined, left, posted, stored } from './fixtures.js';

describe('memberships projection', () => {
  it('a join adds one membership, a leave removes one, messages change none', () => {
    expect(membershipChange(stored(joined('r', bob), 3))).toEqual({ kind: 'joined', roomId: 'r', userId: bob.id });
    expect(membershipChange(stored(left('r', bob), 4))).toEqual({ kind: 'left', roomId: 'r', userId: bob.id });
    expect(membershipChange(stored(created('r'), 1))).toBeNull();
    expect(membershipChange(stored(posted('r', 'r~m', 'hi'), 5))).toBeNull();
    expect(membershipChange(stored({ type: 'MemberRenamed', data: { roomId: 'r', user: { ...bob, name: 'Robert' }, previousName: 'Bob' } }, 6))).toBeNull();
  });

  it('a trim without a snapshot changes nothing; with one, the member list is exactly the snapshot', () => {
    expect(membershipChange(stored({ type: 'HistoryTrimmed', data: { roomId: 'r', beforeSeq: 4 } }, 7))).toBeNull();
    const snapshot = { name: 'r', passwordHash: null, createdBy: alice, members: [alice] };
    const change = membershipChange(stored({ type: 'HistoryTrimmed', data: { roomId: 'r', beforeSeq: 4, room: snapshot } }, 8))!;
    expect(change).toEqual({ kind: 'members', roomId: 'r', userIds: [alice.id] });
    expect([...applyMembership(new Set([bob.id, 'u-carol']), change)]).toEqual([alice.id]);
  });

  it('folds joins and leaves over a member set', () => {
    const members = new Set<string>();
    applyMembership(members, { kind: 'joined', roomId: 'r', userId: bob.id });
    applyMembership(members, { kind: 'joined', roomId: 'r', userId: alice.id });
    applyMembership(members, { kind: 'left', roomId: 'r', userId: bob.id });
    expect([...members]).toEqual([alice.id]);
  });
});
