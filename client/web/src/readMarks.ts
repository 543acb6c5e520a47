/**
 * What this browser has read, per room: the last seq seen while the room was open. Kept in
 * localStorage per user (so another profile, or another name in this one, starts afresh), and
 * compared with a room's headSeq for its unread count. A room's seq counts every event (joins,
 * edits too), so "unread" is the events since the last visit, not only messages.
 */
export type ReadMarks = Record<string, number>;

const keyFor = (userId: string) => `roomlog.read.${userId}`;

export function loadReadMarks(userId: string, storage: Pick<Storage, 'getItem'> = localStorage): ReadMarks {
  try {
    const parsed = JSON.parse(storage.getItem(keyFor(userId)) ?? '{}') as unknown;
    if (!parsed || typeof parsed !== 'object') return {};
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
  } catch {
    return {};
  }
}

export function saveReadMarks(userId: string, marks: ReadMarks, storage: Pick<Storage, 'setItem'> = localStorage): void {
  storage.setItem(keyFor(userId), JSON.stringify(marks));
}

/** Marks only move forward: a late answer about an older seq never un-reads anything. */
export function markRead(marks: ReadMarks, roomId: string, seq: number): ReadMarks {
  return (marks[roomId] ?? 0) >= seq ? marks : { ...marks, [roomId]: seq };
}

/**
 * Unread events of a room; 0 for a room without a mark (the page marks a room where it is when
 * first listed, so joining an old room does not greet with thousands unread).
 */
export function unreadCount(headSeq: number, mark: number | undefined): number {
  return mark === undefined ? 0 : Math.max(0, headSeq - mark);
}

/** The tab's title: the total unread first, as chat apps show it. */
export function tabTitle(totalUnread: number): string {
  return totalUnread > 0 ? `(${totalUnread > 999 ? '999+' : totalUnread}) roomlog` : 'roomlog';
}
