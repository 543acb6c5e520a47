import { useCallback, useEffect, useRef, useState } from 'react';
import type { ChatClient, Room, RoomEvent } from '../../src/index.js';

/** How many of the user's rooms are followed live (each is one subscription on the socket). */
export const LIVE_ROOMS = 50;
const REFRESH_MS = 10_000;

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
 * The two lists of the sidebar: the user's rooms (public and private; from `myRooms`, then kept
 * current by following each room's events, so unread counts and member counts move as things
 * happen) and the public rooms directory (read every 10 s, and after the user joins, leaves or
 * creates a room). Member counts of the user's rooms come from the same events the open room
 * shows, so the sidebar never lags the room.
 */
export function useRoomLists(client: ChatClient) {
  const [mine, setMine] = useState<Room[] | null>(null);
  const [directory, setDirectory] = useState<Room[] | null>(null);
  const mineRef = useRef<Room[] | null>(null);
  mineRef.current = mine;

  const refresh = useCallback(() => {
    // While reconnecting, the last lists stay; queries would only queue up behind the reconnect.
    if (client.status === 'reconnecting' && mineRef.current) return;
    client.myRooms().then((list) => setMine((live) => mergeFetched(live, list)), () => {});
    client.rooms().then(setDirectory, () => {});
  }, [client]);

  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  const followed = (mine ?? []).slice(0, LIVE_ROOMS).map((room) => room.id).join(',');
  useEffect(() => {
    if (followed === '') return;
    const heads = new Map((mineRef.current ?? []).map((room) => [room.id, room.headSeq]));
    const feeds = followed.split(',').map((roomId) =>
      client.onRoomEvents(roomId, (event) => setMine((list) => list?.map((room) => (room.id === roomId ? roomAfterEvent(room, event) : room)) ?? list), {
        afterSeq: heads.get(roomId) ?? 0,
        // A room left meanwhile ends its feed (private rooms with FORBIDDEN); the next read drops it.
        onError: () => {},
      }),
    );
    return () => feeds.forEach((feed) => feed.unsubscribe());
  }, [client, followed]);

  return { mine, directory, refresh };
}
