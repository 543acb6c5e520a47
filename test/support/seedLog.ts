import { randomUUID } from 'node:crypto';
import { roomStream, type RoomEventBody, type UserRef } from '../../src/domain/events.js';
import { messageIdFor, postEventId } from '../../src/domain/ids.js';
import type { EventStore } from '../../src/eventStore/eventStore.js';

/**
 * Writes a realistic log straight into a store (much faster than through the API): rooms with
 * members who join and leave, messages, edits and deletes, interleaved across rooms the way a
 * busy deployment's log is. Every event is one the domain could have decided.
 */
export async function seedLog(store: EventStore, options: { events: number; rooms: number; batch?: number }): Promise<{ events: number; roomIds: string[] }> {
  const batchSize = options.batch ?? 200;
  const users: UserRef[] = Array.from({ length: 20 }, (_, i) => ({ id: `seed-user-${i}`, name: `user ${i}` }));
  const rooms = Array.from({ length: options.rooms }, (_, i) => ({ id: `seed${i}x${randomUUID().slice(0, 6)}`, revision: 0, posts: [] as Array<{ id: string; author: string }>, members: new Set<string>() }));
  let written = 0;
  let turn = 0;
  while (written < options.events) {
    const room = rooms[turn++ % rooms.length]!;
    const roomId = room.id;
    const events: Array<RoomEventBody & { id: string }> = [];
    const want = Math.min(batchSize, options.events - written);
    if (room.revision === 0) {
      events.push({ id: randomUUID(), type: 'RoomCreated', data: { roomId, name: `room ${roomId}`, passwordHash: null, createdBy: users[0]! } });
      events.push({ id: randomUUID(), type: 'MemberJoined', data: { roomId, user: users[0]! } });
      room.members.add(users[0]!.id);
    }
    while (events.length < want) {
      const n = room.revision + events.length;
      const user = users[n % users.length]!;
      const roll = n % 20;
      if (!room.members.has(user.id)) {
        events.push({ id: randomUUID(), type: 'MemberJoined', data: { roomId, user } });
        room.members.add(user.id);
      } else if (roll === 7 && room.posts.length > 0 && user.id !== users[0]!.id) {
        events.push({ id: randomUUID(), type: 'MemberLeft', data: { roomId, user } });
        room.members.delete(user.id);
      } else if (roll === 11 && room.posts.length > 0) {
        const post = room.posts[n % room.posts.length]!;
        events.push({ id: randomUUID(), type: 'MessageEdited', data: { roomId, messageId: post.id, body: `edited at ${n}` } });
      } else if (roll === 13 && room.posts.length > 0) {
        const post = room.posts.splice(n % room.posts.length, 1)[0]!;
        events.push({ id: randomUUID(), type: 'MessageDeleted', data: { roomId, messageId: post.id } });
      } else {
        const clientMessageId = `c${n}`;
        const id = postEventId(roomId, user.id, clientMessageId);
        const messageId = messageIdFor(roomId, id);
        events.push({ id, type: 'MessagePosted', data: { roomId, messageId, clientMessageId, author: user, body: `message ${n} from ${user.name}` } });
        room.posts.push({ id: messageId, author: user.id });
        if (room.posts.length > 200) room.posts.shift();
      }
    }
    const result = await store.append(roomStream(roomId), events, { expectedRevision: room.revision });
    room.revision = result.revision;
    written += events.length;
  }
  return { events: written, roomIds: rooms.map((r) => r.id) };
}
