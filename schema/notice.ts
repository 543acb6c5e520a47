import type { NoticeView } from '../src/chat/notices.js';
import { builder } from './builder.js';

export const NoticeType = builder.objectRef<NoticeView>('Notice').implement({
  description: 'Something the server tells one user, e.g. that they are rate limited until `until`.',
  fields: (t) => ({
    kind: t.exposeString('kind'),
    message: t.exposeString('message'),
    until: t.field({ type: 'DateTime', nullable: true, resolve: (notice) => notice.until }),
  }),
});
