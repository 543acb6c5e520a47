import { useCallback, useEffect, useRef, useState } from 'react';
import type { ChatClient, Room, RoomEvent } from '../../src/index.js';

const MINE_MS = 5_000;
const DIRECTORY_MS = 10_000;

/**
 * A room of the user's list after one of its events: the head moves, joins and leaves move the
 * member count. An event the list already reflects (the list was read after it) changes nothing.
 */
export function roomAfterEvent(room: Room, event: RoomEvent): Room {
  if (event.seq <= room.headSeq) return room;
  const delta = event.__typename === 'MemberJoined' ? 1 : event.__typename === 'MemberLeft' ? -1 : 0;
  return { ...room, headSeq: event.seq, memberCount: room.memberCount + delta };
}

/** A fresh read of the list, keeping what live events brought that the read had not seen yet. */
export function mergeFetched(live: Room[] | null, fetched: Room[]): Room[] {
  const byId = new Map((live ?? []).map((room) => [room.id, room]));
  return fetched.map((room) => {
    const known = byId.get(room.id);
    return known && known.headSeq > room.headSeq ? known : room;
  });
}

/**
 * The two lists of the sidebar: the user's rooms (public and private, from `myRooms`, read every
 * 5 s while the tab is visible, so unread counts move as others write) and the public rooms directory (every 10 s); both
 * again at once after the user joins, leaves or creates a room. The open room's events come in
 * through `applyEvent` as they happen (its own feed), so its head and member count in the sidebar
 * move with the room itself and never lag its people list.
 *
 * Why not follow every room's events: following a room's `roomEvents` makes the user "here" in
 * it (docs/api.md, Presence), and having the app open is not being in every room.
 */
export function useRoomLists(client: ChatClient) {
  const [mine, setMine] = useState<Room[] | null>(null);
  const [directory, setDirectory] = useState<Room[] | null>(null);
  const loaded = useRef(false);
  const ticks = useRef(0);

  const read = useCallback(
    (withDirectory: boolean) => {
      // While reconnecting, the last lists stay; queries would only queue up behind the reconnect.
      if (client.status === 'reconnecting' && loaded.current) return;
      client.myRooms().then((list) => {
        loaded.current = true;
        setMine((live) => mergeFetched(live, list));
      }, () => {});
      if (withDirectory) client.rooms().then(setDirectory, () => {});
    },
    [client],
  );
  const refresh = useCallback(() => read(true), [read]);

  useEffect(() => {
    read(true);
    // A tab in the background reads nothing (every open tab of every user would otherwise query
    // the node every 5 s); coming back, it reads both lists at once.
    const timer = setInterval(() => {
      if (!document.hidden) read(++ticks.current % (DIRECTORY_MS / MINE_MS) === 0);
    }, MINE_MS);
    const onVisible = () => {
      if (!document.hidden) read(true);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [read]);

  const applyEvent = useCallback((event: RoomEvent) => setMine((list) => list?.map((room) => (room.id === event.roomId ? roomAfterEvent(room, event) : room)) ?? list), []);

  return { mine, directory, refresh, applyEvent };
}
