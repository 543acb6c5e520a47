import type { Session } from '../../src/index.js';

const KEY = 'roomlog.session';

/** The session survives reloads (the same user comes back), per browser profile. */
export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const session = JSON.parse(raw) as Session;
    if (!session.token || !session.user || Date.parse(session.expiresAt) < Date.now()) return null;
    return session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) localStorage.setItem(KEY, JSON.stringify(session));
  else localStorage.removeItem(KEY);
}

/** `#/room/<id>` is the open room: a link to a room can be shared, and a reload stays in it. */
export function roomFromHash(hash: string): string | null {
  const match = /^#\/room\/([^/?#]+)/.exec(hash);
  return match ? decodeURIComponent(match[1]!) : null;
}

export const roomHash = (roomId: string): string => `#/room/${encodeURIComponent(roomId)}`;
