/**
 * Where the Redis read models live, under the store's prefix: a JSON document per room and per
 * message, a sorted set of message ids per room (score = seq), a sorted set of public rooms (score
 * = last activity), a set of every room id, the members of each room and the rooms of each user, and the checkpoint. Everything sits under `rm:` so
 * `clear` can find it all with one pattern.
 */
export function readModelKeys(prefix: string) {
  return {
    checkpoint: `${prefix}rm:checkpoint`,
    room: (id: string) => `${prefix}rm:room:${id}`,
    publicRooms: `${prefix}rm:rooms:public`,
    allRooms: `${prefix}rm:rooms:all`,
    message: (id: string) => `${prefix}rm:msg:${id}`,
    roomMessages: (roomId: string) => `${prefix}rm:room:${roomId}:messages`,
    /** A room's member ids, and a user's room ids (both sets; "my rooms"). */
    roomMembers: (roomId: string) => `${prefix}rm:room:${roomId}:members`,
    userRooms: (userId: string) => `${prefix}rm:user:${userId}:rooms`,
    /** Every key above (for SCAN MATCH). */
    everything: `${prefix}rm:*`,
  };
}

export type ReadModelKeys = ReturnType<typeof readModelKeys>;

/** A stored JSON document, or null when the key holds none. */
export const parse = <T>(json: string | null): T | null => (json === null ? null : (JSON.parse(json) as T));
