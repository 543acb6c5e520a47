import { roomStream } from '../domain/events.js';
import { toRoomEvent } from '../domain/fromStored.js';
import { readWholeStream, storeFrom, type StoreOptions } from './context.js';
import { assertRoomsExist } from './unknownRoom.js';

/**
 * Prints a room's events straight from the log, in seq order: JSON lines (the same fields the
 * `roomEvents` query gives) or a table for people.
 */
export async function replay(options: StoreOptions & { room: string; from: number; format: 'json' | 'table' }): Promise<void> {
  const store = storeFrom(options);
  try {
    await assertRoomsExist(store, [options.room]);
    if (options.format === 'table') console.log(`${'seq'.padStart(6)}  ${'at'.padEnd(24)}  ${'type'.padEnd(14)}  detail`);
    for await (const stored of readWholeStream(store, roomStream(options.room), options.from + 1)) {
      const event = toRoomEvent(stored);
      if (!event) continue;
      if (options.format === 'json') {
        console.log(JSON.stringify({ seq: event.seq, roomId: event.data.roomId, at: new Date(event.at).toISOString(), type: event.type, id: event.id, data: event.data }));
      } else {
        console.log(`${String(event.seq).padStart(6)}  ${new Date(event.at).toISOString().padEnd(24)}  ${event.type.padEnd(14)}  ${describe(event)}`);
      }
    }
  } finally {
    await store.close();
  }
}

function describe(event: NonNullable<ReturnType<typeof toRoomEvent>>): string {
  switch (event.type) {
    case 'RoomCreated':
      return `"${event.data.name}" by ${event.data.createdBy.name}${event.data.passwordHash ? ' (private)' : ''}`;
    case 'MemberJoined':
    case 'MemberLeft':
      return event.data.user.name;
    case 'MemberRenamed':
      return `${event.data.previousName} → ${event.data.user.name}`;
    case 'MessagePosted':
      return `${event.data.author.name}: ${event.data.body}`;
    case 'MessageEdited':
      return `${event.data.messageId} → ${event.data.body}`;
    case 'MessageDeleted':
      return event.data.messageId;
    case 'HistoryTrimmed':
      return `messages before seq ${event.data.beforeSeq} removed by retention`;
  }
}
