import type { UserRef } from '../src/domain/events.js';
import { builder } from './builder.js';

export const UserType = builder.objectRef<UserRef>('User').implement({
  description: 'An anonymous user: a random id and the name they chose.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
  }),
});
