import type { UserRef } from '../../domain/events.js';
import type { MessageView } from '../../../projections/views.js';
import { limitWrite, type LimitPorts } from '../limitWrite.js';
import type { ChatPorts } from '../ports.js';
import { messageAfter } from '../readBack.js';
import { runCommand, type RunCommandPorts } from '../runCommand.js';
import * as valid from '../validate.js';

export type DeleteMessage = (viewer: UserRef | null, messageId: string) => Promise<MessageView>;

/** Marks a message deleted (its view stays, without a body); only its author may. Limited per user. */
export function deleteMessage(ports: RunCommandPorts & LimitPorts & Pick<ChatPorts, 'readModels' | 'store'>): DeleteMessage {
  return async (viewer, messageId) => {
    const by = valid.viewer(viewer);
    const roomId = valid.messageRoom(messageId);
    await limitWrite(ports, 'delete', by.id, by.id);
    const outcome = await runCommand(ports, 'deleteMessage', roomId, () => ({ type: 'DeleteMessage', by, messageId }));
    return messageAfter(ports, messageId, outcome.events);
  };
}
