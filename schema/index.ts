import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './user.js';
import './session.js';
import './presence.js';
import './notice.js';
import './room.js';
import './message.js';
import './roomEvent.js';
import './query.js';
import './mutation.js';
import './subscription.js';

let schema: GraphQLSchema | null = null;

/** The executable schema (built once; the type modules above register themselves on import). */
export function buildSchema(): GraphQLSchema {
  schema ??= builder.toSchema();
  return schema;
}

/** The SDL committed as schema/schema.graphql (a test fails when that file is stale). */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(buildSchema()))}\n`;
}
