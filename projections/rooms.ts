import type { RoomEvent } from '../src/domain/events.js';
import type { RoomView } from './views.js';

/**
 * The rooms projection: `project(view, event) → view`, one room at a time. Pure. Every room event
 * moves `headSeq` and (but a rename) `lastActivityAt`; joins and leaves move `memberCount` (the domain never emits a duplicate join or
 * a leave without a join, so counting is exact); a trim that carries the room's snapshot resets it.
 */
export function projectRoom(view: RoomView | undefined, event: RoomEvent): RoomView | undefined {
  if (event.type === 'RoomCreated') {
    const { roomId, name, passwordHash, createdBy } = event.data;
    return {
      id: roomId,
      name,
      private: passwordHash !== null,
      createdBy,
      createdAt: event.at,
      lastActivityAt: event.at,
      headSeq: event.seq,
      oldestSeq: 1,
      memberCount: 0,
    };
  }
  if (event.type === 'HistoryTrimmed' && event.data.room) {
    // A trim that carries the room: the log before it may be gone, RoomCreated included (a
    // rebuild from a scavenged EventStoreDB), so the view is (re)made from the snapshot.
    const { name, passwordHash, createdBy, members } = event.data.room;
    return {
      id: event.data.roomId,
      name,
      private: passwordHash !== null,
      createdBy,
      createdAt: view?.createdAt ?? event.at,
      lastActivityAt: Math.max(view?.lastActivityAt ?? 0, event.at),
      headSeq: Math.max(view?.headSeq ?? 0, event.seq),
      oldestSeq: Math.max(view?.oldestSeq ?? 1, event.data.beforeSeq),
      memberCount: members.length,
    };
  }
  if (!view) return view;
  const memberDelta = event.type === 'MemberJoined' ? 1 : event.type === 'MemberLeft' ? -1 : 0;
  return {
    ...view,
    oldestSeq: event.type === 'HistoryTrimmed' ? Math.max(view.oldestSeq, event.data.beforeSeq) : view.oldestSeq,
    headSeq: Math.max(view.headSeq, event.seq),
    // A rename writes into every room of its user: not activity, or it would lift them all to the
    // top of the room list.
    lastActivityAt: event.type === 'MemberRenamed' ? view.lastActivityAt : Math.max(view.lastActivityAt, event.at),
    memberCount: view.memberCount + memberDelta,
  };
}
