import type { Session } from '../../auth/sessions.js';
import type { ChatPorts } from '../ports.js';
import * as valid from '../validate.js';

export type CreateSession = (name: string) => Promise<Session>;

/** An anonymous session under the display name the user chose (no viewer needed). */
export function createSession(ports: Pick<ChatPorts, 'sessions' | 'limits'>): CreateSession {
  return (name) => ports.sessions.create(valid.displayName(name, 'name', ports.limits.maxNameChars));
}
