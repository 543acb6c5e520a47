import type { RoomEvent } from '../domain/events.js';
import { notFound } from '../domain/errors.js';
import type { MessageView, RoomView } from '../../projections/views.js';
import type { ChatPorts, RoomCommandOutcome } from './ports.js';
import { readAtLeast, roomPosition, type FreshReadPorts } from './queries/freshReads.js';

/*
 * A mutation answers with the view of what it changed, read back from the read models, so the
 * answer has the same shape as every later query of it. The read back waits (bounded) for the
 * read models to include the command's own events — or, when it appended none, the log as it is
 * now — exactly as a query does (queries/freshReads.ts): never an older view, nor a missing one
 * because the read models are being rebuilt (that answers UNAVAILABLE; the write itself is done).
 */

export type ReadBackPorts = Pick<ChatPorts, 'readModels'> & FreshReadPorts;

export async function roomAfter(ports: ReadBackPorts, roomId: string, outcome: Pick<RoomCommandOutcome, 'state' | 'events'>): Promise<RoomView> {
  const position = outcome.events.at(-1)?.position ?? (await roomPosition(ports, roomId));
  const view = await readAtLeast(ports, position, "the room's view", (at) => ports.readModels.room(roomId, at));
  if (!view || !outcome.state.room) throw notFound('room');
  return view;
}

/** `events`: what the command appended; none for a resend (its original is in the log already). */
export async function messageAfter(ports: ReadBackPorts, messageId: string, events: RoomEvent[]): Promise<MessageView> {
  const position = events.at(-1)?.position ?? (await ports.store.headPosition());
  const view = await readAtLeast(ports, position, 'the history', (at) => ports.readModels.message(messageId, at));
  if (view) return view;
  throw notFound('message');
}
