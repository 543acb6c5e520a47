import type { RoomEvent } from '../domain/events.js';
import { notFound } from '../domain/errors.js';
import type { MessageView, RoomView } from '../../projections/views.js';
import type { ChatPorts, RoomCommandOutcome } from './ports.js';

/*
 * A mutation answers with the view of what it changed, read back from the read models (which the
 * command waited for), so the answer has the same shape as every later query of it.
 */

export async function roomAfter(ports: Pick<ChatPorts, 'readModels'>, roomId: string, outcome: Pick<RoomCommandOutcome, 'state'>): Promise<RoomView> {
  const view = await ports.readModels.room(roomId);
  if (!view || !outcome.state.room) throw notFound('room');
  return view;
}

export async function messageAfter(ports: Pick<ChatPorts, 'readModels' | 'progress' | 'store'>, messageId: string, events: RoomEvent[]): Promise<MessageView> {
  let view = await ports.readModels.message(messageId);
  if (view) return view;
  if (events.length === 0) {
    // Nothing appended (a resend racing its original): the original is in the log, so wait
    // until the read models have caught up with the log and answer from them.
    await ports.progress.waitFor(await ports.store.headPosition()).catch(() => {});
    view = await ports.readModels.message(messageId);
    if (view) return view;
  }
  throw notFound('message');
}
