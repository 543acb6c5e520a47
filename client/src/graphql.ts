import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.js';

/**
 * `graphql()` typed by the server's schema: the result and variable types of every document
 * written with it are inferred from schema/schema.graphql, through graphql-env.d.ts, which
 * gql.tada generates from it (`npm run client:types`; a unit test fails while it is stale).
 * tsc types a field the schema lacks as `unknown`; naming it as an error is the job of gql.tada's
 * validation (`gql.tada check`, part of `npm run typecheck`, and the editor plugin configured in
 * client/tsconfig.json). Together: a schema change that breaks a client document breaks the
 * typecheck.
 *
 * Fragments are not masked: the client hands plain result objects to its callers, and the
 * fragments exist to name the shapes it hands out (./types.ts), not to hide fields.
 */
export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: { DateTime: string };
  disableMasking: true;
}>();

export type { FragmentOf, ResultOf, TadaDocumentNode, VariablesOf } from 'gql.tada';
