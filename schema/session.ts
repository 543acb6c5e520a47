import type { Session } from '../src/auth/sessions.js';
import { builder } from './builder.js';
import { UserType } from './user.js';

export const SessionType = builder.objectRef<Session>('Session').implement({
  description: 'An anonymous session. Send the token as `Authorization: Bearer <token>` (HTTP) or in connection_init (WebSocket).',
  fields: (t) => ({
    token: t.exposeString('token'),
    user: t.field({ type: UserType, resolve: (session) => session.user }),
    expiresAt: t.field({ type: 'DateTime', resolve: (session) => session.expiresAt }),
  }),
});
