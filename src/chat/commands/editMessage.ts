import type { UserRef } from '../../domain/events.js';
import type { MessageView } from '../../../projections/views.js';
import { limitWrite, type LimitPorts } from '../limitWrite.js';
import type { ChatPorts } from '../ports.js';
import { messageAfter } from '../readBack.js';
import { runCommand, type RunCommandPorts } from '../runCommand.js';
import * as valid from '../validate.js';

export type EditMessage = (viewer: UserRef | null, messageId: string, body: string) => Promise<MessageView>;

/** Replaces a message's body; only its author may. Limited per user (each edit is kept in the log). */
export function editMessage(ports: RunCommandPorts & LimitPorts & Pick<ChatPorts, 'readModels' | 'store' | 'limits'>): EditMessage {
  return async (viewer, messageId, body) => {
    const by = valid.viewer(viewer);
    const roomId = valid.messageRoom(messageId);
    valid.messageBody(body, ports.limits.maxBodyChars);
    await limitWrite(ports, 'edit', by.id, by.id);
    const outcome = await runCommand(ports, 'editMessage', roomId, () => ({ type: 'EditMessage', by, messageId, body }));
    return messageAfter(ports, messageId, outcome.events);
  };
}
