import type { RoomEvent } from '../src/domain/events.js';
import type { RoomView } from './views.js';

/**
 * The rooms projection: `project(view, event) → view`, one room at a time. Pure. Every room event
 * moves `headSeq`; joins and leaves move `memberCount` (the domain never emits a duplicate join or
 * a leave without a join, so counting is exact).
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
  if (!view) return view;
  const memberDelta = event.type === 'MemberJoined' ? 1 : event.type === 'MemberLeft' ? -1 : 0;
  return {
    ...view,
    oldestSeq: event.type === 'HistoryTrimmed' ? Math.max(view.oldestSeq, event.data.beforeSeq) : view.oldestSeq,
    headSeq: Math.max(view.headSeq, event.seq),
    lastActivityAt: Math.max(view.lastActivityAt, event.at),
    memberCount: view.memberCount + memberDelta,
  };
}
