import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga, maskError } from 'graphql-yoga';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { Config } from '../config.js';
import { bearerToken } from '../auth/sessions.js';
import { unauthenticated } from '../domain/errors.js';
import { CloseCodes } from '../../schema/codes.js';
import { toGraphQLError } from '../../schema/errors.js';
import { buildSchema } from '../../schema/index.js';
import type { GraphQLContext } from '../../schema/builder.js';
import { attachGraphqlWs } from './graphqlWs.js';
import { clientAddress, parseTrustedProxies } from './clientAddress.js';
import { createServices, type Services } from './services.js';
import { exampleQuery } from './graphiqlExample.js';
import { createGraphiQL } from './graphiql.js';
import { listenForMetrics, metricsHandler, type MetricsListener } from './metricsEndpoint.js';
import { corsOptions, isAllowedOrigin, parseOrigins } from './origins.js';
import { COMMON_SECURITY_HEADERS } from './securityHeaders.js';
import { serveWebApp } from './webApp.js';
import { useCsrfPrevention } from './plugins/useCsrfPrevention.js';
import { QueryBudget } from './plugins/queryBudget.js';
import { useListCost } from './plugins/useListCost.js';
import { useResponseSize } from './plugins/useResponseSize.js';
import { useSseStreams } from './plugins/useSseStreams.js';
import { useCleanRequestErrors } from './plugins/useCleanRequestErrors.js';
import { boundedDocumentCache } from './documentCache.js';

export interface App {
  /** Listens; resolves with the URL once connections are accepted. */
  start(): Promise<string>;
  /** Graceful: not ready, close sockets with 1012 after the grace period, release everything. */
  stop(): Promise<void>;
  services: Services;
  /** Where /metrics is served once started: on the API's port, or METRICS_PORT's own listener. */
  metricsUrl(): string | null;
}

/**
 * Builds a node from its configuration. `main.ts` only reads config and calls this, so tests and
 * tools can start a node in-process too.
 */
export async function buildApp(config: Config): Promise<App> {
  const services = await createServices(config);
  const { sessions, log, metrics } = services;
  const schema = buildSchema();
  let draining = false;
  // Listening comes first, so /healthz answers while the node waits for Redis and replays the
  // log; until then it is not ready and the API answers 503 (README, "Starting").
  let started = false;

  const baseContext = { chat: services.chat, subscriptions: services.subscriptions };
  // Per-address limits need the client's address: the socket's peer, or what a trusted proxy forwarded.
  const trustedProxies = parseTrustedProxies(config.TRUST_PROXY);
  // Browser-facing hardening (README, "Limits and abuse"): which other sites' pages may call the
  // API, GraphiQL (or not), and where /metrics is served.
  const origins = parseOrigins(config.CORS_ORIGINS);
  const graphiql = config.GRAPHIQL ? createGraphiQL({ title: 'roomlog', defaultQuery: exampleQuery, subscriptionsProtocol: 'WS' }) : null;
  const serveMetrics = metricsHandler(metrics.registry, config.METRICS_TOKEN);
  let metricsListener: MetricsListener | null = null;
  let metricsUrl: string | null = null;
  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
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
    plugins: [
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
    ],
    context: async (initial): Promise<GraphQLContext> => {
      // WebSocket operations arrive with their connection's context already built (graphqlWs.ts).
      if ('viewer' in initial && 'connectionId' in initial) return initial as unknown as GraphQLContext;
      const request = (initial as { request: Request }).request;
      const token = bearerToken(request.headers.get('authorization'));
      const viewer = token ? await sessions.verify(token) : null;
      // A token that is present but forged or expired is an error, not an anonymous request.
      if (token && !viewer) throw unauthenticated('the session token is invalid or expired: call createSession again');
      const req = (initial as { req?: IncomingMessage }).req;
      return { ...baseContext, viewer, connectionId: randomUUID(), clientAddress: req ? clientAddress(req, trustedProxies) : null };
    },
  });

  const httpServer = createServer((req, res) => {
    route(req, res).catch((error) => {
      log.error({ err: error }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  httpServer.headersTimeout = 10_000;
  httpServer.requestTimeout = 30_000;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    for (const [name, value] of Object.entries(COMMON_SECURITY_HEADERS)) res.setHeader(name, value);
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok', node: config.NODE_ID });
    if (path === '/readyz') {
      // Whether THIS node can serve: started, not draining, its event store answers. Redis is
      // shared by every node and sends and delivery go on without it, so its state is told in the
      // body (`redis: "degraded"`) and never makes the node unready: a balancer would otherwise
      // take every node out at once.
      const health = started && !draining ? await services.ready() : null;
      const ready = health?.store === true;
      const status = ready ? 'ready' : draining ? 'draining' : !started ? 'starting' : 'unavailable';
      // `connections` lets several balancers in front of the same nodes see each other's load.
      return sendJson(res, ready ? 200 : 503, {
        status,
        ready,
        ...(health?.redis ? { redis: health.redis } : {}),
        node: config.NODE_ID,
        connections: ws.connections,
      });
    }
    if (path === '/metrics' && config.METRICS_PORT === undefined) return serveMetrics(req, res);
    if (graphiql && (await graphiql.serve(req, res))) return;
    if (path !== '/graphql' && (await serveWebApp(req, res))) return;
    if (path !== '/graphql') return sendJson(res, 404, { error: 'not found: the API is at /graphql' });
    if (draining || !started) {
      res.setHeader('retry-after', '1');
      const message = draining ? 'this node is shutting down; retry on another' : 'this node is starting; retry shortly';
      return sendJson(res, 503, { errors: [{ message, extensions: { code: 'UNAVAILABLE' } }] });
    }
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > config.MAX_REQUEST_BYTES) {
      return sendJson(res, 413, { errors: [{ message: `request body over ${config.MAX_REQUEST_BYTES} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    }
    // A chunked body has no declared length to check up front; refuse it rather than read blindly.
    if (req.headers['transfer-encoding'] !== undefined) {
      return sendJson(res, 411, { errors: [{ message: 'send a Content-Length', extensions: { code: 'BAD_USER_INPUT' } }] });
    }
    await yoga(req, res);
  }

  const ws = attachGraphqlWs({
    httpServer,
    isDraining: () => draining || !started,
    yoga: yoga as never,
    schema,
    sessions,
    subscriptions: services.subscriptions,
    baseContext,
    addressOf: (request) => clientAddress(request, trustedProxies),
    // Another site's page may not open a socket from a visitor's browser (CORS does not cover WebSocket).
    originAllowed: (request) => isAllowedOrigin(origins, request.headers.origin, request.headers.host),
    metrics,
    log,
    limits: {
      maxPayloadBytes: config.MAX_REQUEST_BYTES,
      maxSubscriptionsPerConnection: config.MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxOperationsPerConnection: config.MAX_OPERATIONS_PER_CONNECTION,
      connectionInitTimeoutMs: config.CONNECTION_INIT_TIMEOUT_MS,
      keepAliveMs: config.KEEPALIVE_MS,
      slowConsumer: {
        maxBufferedBytes: config.MAX_SOCKET_BUFFER_BYTES,
        resumeBelowBytes: Math.floor(config.MAX_SOCKET_BUFFER_BYTES / 4),
        drainTimeoutMs: 30_000,
      },
    },
  });

  return {
    services,
    metricsUrl: () => metricsUrl,
    async start() {
      if (config.METRICS_PORT !== undefined) {
        metricsListener = await listenForMetrics({
          host: config.METRICS_HOST ?? config.HOST,
          port: config.METRICS_PORT,
          handle: serveMetrics,
          onError: (error) => log.error({ err: error }, 'metrics request failed'),
        });
        metricsUrl = metricsListener.url;
        log.info({ url: metricsUrl }, 'metrics on their own listener');
      }
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.PORT, config.HOST, () => resolve());
      });
      const { port } = httpServer.address() as AddressInfo;
      const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
      const url = `http://${host}:${port}`;
      await services.start(url);
      started = true;
      services.announce(url);
      metricsUrl ??= `${url}/metrics`;
      return url;
    },
    async stop() {
      // Not ready at once (balancers stop sending new connections), still answering /readyz with
      // 503 through the grace period; then every socket is closed with 1012 so clients reconnect
      // elsewhere and resume with afterSeq.
      draining = true;
      await services.withdraw();
      await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_GRACE_MS).unref());
      httpServer.close();
      await ws.close(CloseCodes.ServiceRestart.code, 'server restarting: reconnect and resume with afterSeq');
      httpServer.closeAllConnections();
      await metricsListener?.close();
      await services.close();
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
