import type { Session } from '../../auth/sessions.js';
import { addressKey } from '../../limits/addressKey.js';
import { limitWrite, type LimitPorts } from '../limitWrite.js';
import type { ChatPorts } from '../ports.js';
import * as valid from '../validate.js';

/** `address`: the client's, when the transport knows it (sessions are limited per address). */
export type CreateSession = (name: string, address?: string | null) => Promise<Session>;

/** An anonymous session under the display name the user chose (no viewer needed). */
export function createSession(ports: Pick<ChatPorts, 'sessions' | 'limits'> & LimitPorts): CreateSession {
  return async (name, address) => {
    const clean = valid.displayName(name, 'name', ports.limits.maxNameChars);
    // Sessions cost nothing to make, so every per-user limit is one new session away: the
    // address is what bounds them (no user yet to send a notice to).
    if (address) await limitWrite(ports, 'sessionPerAddress', addressKey(address));
    return ports.sessions.create(clean);
  };
}
