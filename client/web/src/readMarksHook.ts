import { useCallback, useEffect, useState } from 'react';
import type { Room } from '../../src/index.js';
import { loadReadMarks, markRead, saveReadMarks, tabTitle, unreadCount, type ReadMarks } from './readMarks.js';

/**
 * Unread counts of the user's rooms against what this browser has read (readMarks.ts), the open
 * room counting as read, and the total in the tab's title.
 */
export function useUnread(userId: string, mine: Room[] | null, openRoomId: string | null) {
  const [marks, setMarks] = useState<ReadMarks>(() => loadReadMarks(userId));
  const seen = useCallback(
    (roomId: string, seq: number) =>
      setMarks((current) => {
        const next = markRead(current, roomId, seq);
        if (next !== current) saveReadMarks(userId, next);
        return next;
      }),
    [userId],
  );

  // A room listed for the first time starts with nothing unread (see unreadCount).
  useEffect(() => {
    const fresh = (mine ?? []).filter((room) => marks[room.id] === undefined);
    for (const room of fresh) seen(room.id, room.headSeq);
  }, [mine, marks, seen]);

  // The open room is read as its events come (its head moves with them in `mine`), but only while
  // the page is shown: in a background tab its new messages count, in the title too, until the
  // reader comes back to it.
  const visible = usePageVisible();
  const reading = visible ? openRoomId : null;
  useEffect(() => {
    const open = mine?.find((room) => room.id === reading);
    if (open) seen(open.id, open.headSeq);
  }, [mine, reading, seen]);

  const unread = new Map((mine ?? []).map((room) => [room.id, room.id === reading ? 0 : unreadCount(room.headSeq, marks[room.id])]));
  const total = [...unread.values()].reduce((sum, n) => sum + n, 0);
  useEffect(() => {
    document.title = tabTitle(total);
  }, [total]);

  return { unread, total, seen };
}

/** Whether the page is shown (not a background tab or a minimised window). */
export function usePageVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState !== 'hidden');
  useEffect(() => {
    const onChange = () => setVisible(document.visibilityState !== 'hidden');
    document.addEventListener('visibilitychange', onChange);
    return () => document.removeEventListener('visibilitychange', onChange);
  }, []);
  return visible;
}
