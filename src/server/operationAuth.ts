import type { SubscribePayload } from 'graphql-ws';
import { bearerToken, type Sessions } from '../auth/sessions.js';
import type { UserRef } from '../domain/events.js';
import { unauthenticated } from '../domain/errors.js';

/**
 * GraphiQL (Yoga's, with `subscriptionsProtocol: 'WS'`) sends an empty `connection_init` and puts
 * the Headers tab into each operation's `extensions.headers`. A connection that came without a
 * token may therefore authenticate an operation that way; a connection with one keeps its own
 * identity (an operation cannot switch users on it).
 *
 * Resolves with the operation's viewer: the connection's, else the one its headers name, else
 * null. Throws UNAUTHENTICATED for a token that is present but invalid or expired.
 */
export async function operationViewer(connectionViewer: UserRef | null, payload: SubscribePayload, sessions: Sessions): Promise<UserRef | null> {
  if (connectionViewer) return connectionViewer;
  const headers = payload.extensions?.headers;
  if (!headers || typeof headers !== 'object') return null;
  const entry = Object.entries(headers as Record<string, unknown>).find(([name]) => name.toLowerCase() === 'authorization');
  const token = bearerToken(entry?.[1]);
  if (!token) return null;
  const viewer = await sessions.verify(token);
  if (!viewer) throw unauthenticated('the session token is invalid or expired: call createSession again');
  return viewer;
}
