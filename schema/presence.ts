import type { PresenceView } from '../src/presence/presenceView.js';
import { builder } from './builder.js';
import { UserType } from './user.js';

export const PresenceType = builder.objectRef<PresenceView>('Presence').implement({
  description: 'Who follows a room right now and who is typing in it.',
  fields: (t) => ({
    roomId: t.exposeID('roomId'),
    count: t.exposeInt('count'),
    online: t.field({ type: [UserType], resolve: (view) => view.online }),
    typing: t.field({ type: [UserType], resolve: (view) => view.typing }),
  }),
});
