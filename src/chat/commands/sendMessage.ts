import { notFound } from '../../domain/errors.js';
import { roomStream, type UserRef } from '../../domain/events.js';
import { toRoomEvent } from '../../domain/fromStored.js';
import { messageIdFor, postEventId } from '../../domain/ids.js';
import { projectMessage } from '../../../projections/history.js';
import type { MessageView } from '../../../projections/views.js';
import { limitWrite, type LimitPorts } from '../limitWrite.js';
import type { ChatPorts } from '../ports.js';
import { runCommand, type RunCommandPorts } from '../runCommand.js';
import * as valid from '../validate.js';

export type SendMessage = (viewer: UserRef | null, roomId: string, body: string, clientMessageId: string) => Promise<MessageView>;

export type SendMessagePorts = RunCommandPorts & LimitPorts & Pick<ChatPorts, 'readModels' | 'store' | 'presence' | 'limits'>;

/**
 * Posts a message, idempotent per (author, room, clientMessageId): a resend answers with the
 * original and is never refused for the rate. The hot path: it does not wait for the read models.
 */
export function sendMessage(ports: SendMessagePorts): SendMessage {
  return async (viewer, roomId, body, clientMessageId) => {
    const author = valid.viewer(viewer);
    valid.id(roomId, 'roomId');
    valid.clientMessageId(clientMessageId);
    valid.messageBody(body, ports.limits.maxBodyChars);
    const messageId = messageIdFor(roomId, postEventId(roomId, author.id, clientMessageId));
    // A resend of something already projected is answered without touching the limit or the log.
    // Only a shortcut: if the read models are slow or away (Redis down), the aggregate still
    // recognises the resend, so the send must not wait on them.
    const known = await within(ports.readModels.message(messageId), 200, null);
    if (known) return known;
    // Stored but not projected yet (the projector is catching up, say after a node died): still a
    // resend, and a resend must never be refused for the rate, so ask the log itself.
    if ((await ports.commands.load(roomId)).messages.has(messageId)) return originalFromLog(ports, roomId, messageId);
    await limitWrite(ports, 'send', author.id, author.id);
    // No wait for the read models: a new message is fully known from its event, and the sender
    // is acknowledged as soon as it is durable (other commands wait, see runCommand).
    const outcome = await runCommand(ports, 'sendMessage', roomId, () => ({ type: 'PostMessage', author, clientMessageId, body }), { waitForReadModels: false });
    // Sending ends typing; presence is best effort, so a failure here must not fail the send.
    void ports.presence.setTyping(roomId, author, false).catch(() => {});
    const posted = outcome.events.find((event) => event.type === 'MessagePosted');
    const view = posted && projectMessage(undefined, posted);
    if (view) return view;
    // Nothing appended: a resend that raced its original, which is in the log now.
    return originalFromLog(ports, roomId, messageId);
  };
}

/**
 * A resend's answer: the original message, from its MessagePosted in the log (deleted if the room
 * says it was). Not from the read models: a client retries a send whose answer it lost exactly
 * when something failed, and the read models may then be behind for seconds (their projector's
 * node died, Redis restarted) while the message is already durable. An edit made since shows only
 * in the read models, which answered above when they could.
 */
async function originalFromLog(ports: SendMessagePorts, roomId: string, messageId: string): Promise<MessageView> {
  const known = (await ports.commands.load(roomId)).messages.get(messageId);
  if (!known) throw notFound('message');
  const [stored] = await ports.store.readStream(roomStream(roomId), { fromRevision: known.seq, limit: 1 });
  const posted = stored && toRoomEvent(stored);
  const view = posted && projectMessage(undefined, posted);
  if (!view || view.id !== messageId) throw notFound('message');
  return known.deleted ? { ...view, body: '', deleted: true } : view;
}

/** The promise's value, or `fallback` if it fails or takes longer than `ms`. */
function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  return Promise.race([promise.catch(() => fallback), timeout]).finally(() => clearTimeout(timer));
}
