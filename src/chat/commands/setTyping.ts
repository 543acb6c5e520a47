import type { UserRef } from '../../domain/events.js';
import { forbidden, notFound } from '../../domain/errors.js';
import { limitWrite, type LimitPorts } from '../limitWrite.js';
import type { ChatPorts } from '../ports.js';
import * as valid from '../validate.js';

export type SetTyping = (viewer: UserRef | null, roomId: string, typing: boolean) => Promise<boolean>;

/**
 * Typing is a presence signal, not an event of the log: members only, checked against the room's
 * state, limited per user (a generous budget: clients send it while keys are pressed), then handed
 * to the presence store (which lets it lapse by itself).
 */
export function setTyping(ports: Pick<ChatPorts, 'commands' | 'presence'> & LimitPorts): SetTyping {
  return async (viewer, roomId, typing) => {
    const user = valid.viewer(viewer);
    const state = await ports.commands.load(valid.id(roomId, 'roomId'));
    if (!state.room) throw notFound('room');
    if (!state.members.has(user.id)) throw forbidden('join the room first');
    await limitWrite(ports, 'typing', user.id, user.id);
    await ports.presence.setTyping(roomId, user, typing);
    return typing;
  };
}
