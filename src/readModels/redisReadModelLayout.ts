/**
 * The layout of the read models in Redis. Raise it whenever a version of the projections writes
 * keys or documents an older one did not (2: the members of each room and the rooms of each
 * user, for myRooms). Each layout lives under its own keys with its own projector lease: nodes of
 * a new version build their layout from the log beside the old one (their reads wait for it, or
 * answer UNAVAILABLE, until it has caught up) instead of trusting views an older version built
 * without what they need, and nodes of both versions serve side by side during a rolling upgrade.
 * The keys of an older layout are left for the operator to delete once no node uses them
 * (README, "Upgrading").
 */
export const READ_MODEL_LAYOUT = 2;

/** Where layout `layout` keeps its views: `rm:` for the first, `rm<n>:` after (no pattern of one matches another's keys). */
const root = (prefix: string, layout: number) => `${prefix}rm${layout === 1 ? '' : layout}:`;

/** The projector lease of the current layout: one holder per layout applies the log to it. */
export const projectorLeaseKey = (prefix: string, layout = READ_MODEL_LAYOUT) => `${prefix}projector${layout === 1 ? '' : `:v${layout}`}:lease`;

/**
 * Where the Redis read models live, under the store's prefix: a JSON document per room and per
 * message, a sorted set of message ids per room (score = seq), a sorted set of public rooms (score
 * = last activity), a set of every room id, the members of each room and the rooms of each user,
 * and the checkpoint. Everything sits under the layout's root (`rm2:`) so `clear` can find it all
 * with one pattern.
 */
export function readModelKeys(prefix: string, layout = READ_MODEL_LAYOUT) {
  const rm = root(prefix, layout);
  return {
    checkpoint: `${rm}checkpoint`,
    room: (id: string) => `${rm}room:${id}`,
    publicRooms: `${rm}rooms:public`,
    allRooms: `${rm}rooms:all`,
    message: (id: string) => `${rm}msg:${id}`,
    roomMessages: (roomId: string) => `${rm}room:${roomId}:messages`,
    /** A room's member ids, and a user's room ids (both sets; "my rooms"). */
    roomMembers: (roomId: string) => `${rm}room:${roomId}:members`,
    userRooms: (userId: string) => `${rm}user:${userId}:rooms`,
    /** Every key above (for SCAN MATCH). */
    everything: `${rm}*`,
  };
}

export type ReadModelKeys = ReturnType<typeof readModelKeys>;

/** A stored JSON document, or null when the key holds none. */
export const parse = <T>(json: string | null): T | null => (json === null ? null : (JSON.parse(json) as T));
