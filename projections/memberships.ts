import type { RoomEvent } from '../src/domain/events.js';

/**
 * The memberships projection: who is a member of which room, for "my rooms" (the viewer's
 * rooms, private ones included). Pure. Joins and leaves change one membership each (the domain
 * never emits a duplicate join or a leave without a join); a trim that carries the room's snapshot
 * says the whole member list at once (the log before it may be gone).
 */
export type MembershipChange =
  | { kind: 'joined'; roomId: string; userId: string }
  | { kind: 'left'; roomId: string; userId: string }
  /** Exactly these users are the room's members from here on. */
  | { kind: 'members'; roomId: string; userIds: string[] };

export function membershipChange(event: RoomEvent): MembershipChange | null {
  switch (event.type) {
    case 'MemberJoined':
      return { kind: 'joined', roomId: event.data.roomId, userId: event.data.user.id };
    case 'MemberLeft':
      return { kind: 'left', roomId: event.data.roomId, userId: event.data.user.id };
    case 'HistoryTrimmed':
      return event.data.room ? { kind: 'members', roomId: event.data.roomId, userIds: event.data.room.members.map((user) => user.id) } : null;
    default:
      return null;
  }
}

/** A room's member ids after `change` (mutates and returns `members`). */
export function applyMembership(members: Set<string>, change: MembershipChange): Set<string> {
  if (change.kind === 'joined') members.add(change.userId);
  else if (change.kind === 'left') members.delete(change.userId);
  else {
    members.clear();
    for (const id of change.userIds) members.add(id);
  }
  return members;
}
