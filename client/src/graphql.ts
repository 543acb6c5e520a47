import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.js';

/**
 * `graphql()` typed by the server's schema: every document written with it is checked against
 * schema/schema.graphql when the code is type-checked, and its result and variable types are
 * inferred from it. graphql-env.d.ts is generated from the schema (`npm run client:types`; a unit
 * test fails while it is stale), so a schema change that breaks a client document breaks
 * `npm run typecheck`.
 *
 * Fragments are not masked: the client hands plain result objects to its callers, and the
 * fragments exist to name the shapes it hands out (client/src/types.ts), not to hide fields.
 */
export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: { DateTime: string };
  disableMasking: true;
}>();

export type { FragmentOf, ResultOf, TadaDocumentNode, VariablesOf } from 'gql.tada';
