import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { createYoga, maskError, type Plugin, type YogaInitialContext } from 'graphql-yoga';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { Config } from '../config.js';
import { bearerToken, type Sessions } from '../auth/sessions.js';
import { unauthenticated } from '../domain/errors.js';
import { toGraphQLError } from '../../schema/errors.js';
import type { GraphQLContext } from '../../schema/builder.js';
import { clientAddress, type TrustedProxies } from './clientAddress.js';
import { corsOptions, type OriginPolicy } from './origins.js';
import { useCsrfPrevention } from './plugins/useCsrfPrevention.js';
import { QueryBudget } from './plugins/queryBudget.js';
import { useListCost } from './plugins/useListCost.js';
import { useResponseSize } from './plugins/useResponseSize.js';
import { useSseStreams } from './plugins/useSseStreams.js';
import { useCleanRequestErrors } from './plugins/useCleanRequestErrors.js';
import { boundedDocumentCache } from './documentCache.js';

export type BaseContext = Omit<GraphQLContext, 'viewer' | 'connectionId' | 'clientAddress'>;

export interface YogaServerOptions {
  config: Config;
  schema: GraphQLSchema;
  sessions: Sessions;
  baseContext: BaseContext;
  trustedProxies: TrustedProxies;
  origins: OriginPolicy;
}

/** The Yoga instance serving /graphql over HTTP (and the envelop graphql-ws runs operations through). */
export function createYogaServer({ config, schema, sessions, baseContext, trustedProxies, origins }: YogaServerOptions) {
  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    logging: false,
    // Parsed documents are cached by their text: only small ones, so the cache cannot be filled
    // with large documents (src/server/documentCache.ts).
    parserAndValidationCache: {
      documentCache: boundedDocumentCache({ maxEntries: 1_024, maxDocumentChars: 4_096 }),
      errorCache: boundedDocumentCache({ maxEntries: 256, maxDocumentChars: 4_096 }),
      validationCache: true,
    },
    maskedErrors: {
      isDev: false,
      // Errors the chat raises on purpose (ChatErrors, also when graphql-js wrapped one with its
      // path) become their public GraphQL error; anything else is a bug or an outage and Yoga
      // masks it as "Unexpected error." as it always did.
      maskError: (error, message, isDev) => toGraphQLError(error) ?? maskError(error, message, isDev),
    },
    // GraphiQL is served by graphiql.ts (its files compressed, cached, under a CSP), not by Yoga.
    graphiql: false,
    // Yoga's default reflects every origin with credentials: only CORS_ORIGINS get CORS headers.
    cors: corsOptions(origins),
    plugins: yogaPlugins(config),
    context: (initial) => requestContext(initial, sessions, baseContext, trustedProxies),
  });
}

/** Request hardening and limits, in the order they apply (README, "Limits and abuse"). */
function yogaPlugins(config: Config): Plugin<Record<string, unknown>>[] {
  return [
    // Form posts from other sites must not run mutations (src/server/plugins/useCsrfPrevention.ts).
    useCsrfPrevention(),
    maxDepthPlugin({ n: config.MAX_QUERY_DEPTH, exposeLimits: true }),
    // The cost limit counts list sizes (graphql-armor's cost limit ignores `limit`), and long
    // lists take turns; answers and SSE streams are bounded (README, "Limits and abuse").
    useListCost({
      maxCost: config.MAX_QUERY_COST,
      budget: new QueryBudget({
        perNode: config.MAX_QUERY_COST_AT_ONCE,
        perUser: config.MAX_QUERY_COST_AT_ONCE_PER_USER,
        maxQueued: 64,
      }),
    }),
    useResponseSize(config.MAX_RESPONSE_BYTES),
    useSseStreams({ perUser: config.MAX_SSE_STREAMS_PER_USER, perAddress: config.MAX_SSE_STREAMS_PER_ADDRESS }),
    useCleanRequestErrors(),
    maxAliasesPlugin({ n: 15, exposeLimits: true }),
    maxTokensPlugin({ n: 2_000, exposeLimits: true }),
  ];
}

/** An HTTP request's context: its viewer from the bearer token, and the client's address. */
async function requestContext(
  initial: YogaInitialContext & Record<string, unknown>,
  sessions: Sessions,
  baseContext: BaseContext,
  trustedProxies: TrustedProxies,
): Promise<GraphQLContext> {
  // WebSocket operations arrive with their connection's context already built (graphqlWs.ts).
  if ('viewer' in initial && 'connectionId' in initial) return initial as unknown as GraphQLContext;
  const request = (initial as { request: Request }).request;
  const token = bearerToken(request.headers.get('authorization'));
  const viewer = token ? await sessions.verify(token) : null;
  // A token that is present but forged or expired is an error, not an anonymous request.
  if (token && !viewer) throw unauthenticated('the session token is invalid or expired: call createSession again');
  const req = (initial as { req?: IncomingMessage }).req;
  return { ...baseContext, viewer, connectionId: randomUUID(), clientAddress: req ? clientAddress(req, trustedProxies) : null };
}
