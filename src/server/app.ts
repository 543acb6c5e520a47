import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.js';
import { CloseCodes } from '../../schema/codes.js';
import { buildSchema } from '../../schema/index.js';
import { attachGraphqlWs } from './graphqlWs.js';
import { clientAddress, parseTrustedProxies, type TrustedProxies } from './clientAddress.js';
import { createServices, type Services } from './services.js';
import { exampleQuery } from './graphiqlExample.js';
import { createGraphiQL } from './graphiql.js';
import { listenForMetrics, metricsHandler, type MetricsListener } from './metricsEndpoint.js';
import { isAllowedOrigin, parseOrigins, type OriginPolicy } from './origins.js';
import { createHttpServer, type NodeState } from './httpRoutes.js';
import { createYogaServer, type BaseContext } from './yogaServer.js';

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
  // Listening comes first, so /healthz answers while the node waits for Redis and replays the
  // log; until then it is not ready and the API answers 503 (README, "Starting").
  const state: NodeState = { started: false, draining: false };

  const baseContext = { chat: services.chat, subscriptions: services.subscriptions };
  // Per-address limits need the client's address: the socket's peer, or what a trusted proxy forwarded.
  const trustedProxies = parseTrustedProxies(config.TRUST_PROXY);
  // Browser-facing hardening (README, "Limits and abuse"): which other sites' pages may call the
  // API, GraphiQL (or not), and where /metrics is served.
  const origins = parseOrigins(config.CORS_ORIGINS);
  const graphiql = config.GRAPHIQL ? createGraphiQL({ title: 'roomlog', defaultQuery: exampleQuery, subscriptionsProtocol: 'WS' }) : null;
  const serveMetrics = metricsHandler(metrics.registry, config.METRICS_TOKEN);
  const yoga = createYogaServer({ config, schema, sessions, baseContext, trustedProxies, origins });

  const httpServer = createHttpServer({
    config,
    log,
    state,
    ready: () => services.ready(),
    connections: () => ws.connections,
    serveMetrics,
    graphiql,
    yoga,
  });
  const ws = attachWebSockets({ config, services, state, httpServer, yoga, schema, baseContext, trustedProxies, origins });
  const metricsAt: MetricsAt = { listener: null, url: null };

  return {
    services,
    metricsUrl: () => metricsAt.url,
    start: () => startNode({ config, services, state, httpServer, metricsAt, serveMetrics }),
    stop: () => stopNode({ config, services, state, httpServer, metricsAt, ws }),
  };
}

/** Where /metrics is served once started (METRICS_PORT's own listener, or the API's port). */
interface MetricsAt {
  listener: MetricsListener | null;
  url: string | null;
}

interface WebSocketParts {
  config: Config;
  services: Services;
  state: NodeState;
  httpServer: Server;
  yoga: ReturnType<typeof createYogaServer>;
  schema: ReturnType<typeof buildSchema>;
  baseContext: BaseContext;
  trustedProxies: TrustedProxies;
  origins: OriginPolicy;
}

/** graphql-ws on the API's port and path, refusing upgrades while not serving or from other sites. */
function attachWebSockets({ config, services, state, httpServer, yoga, schema, baseContext, trustedProxies, origins }: WebSocketParts) {
  return attachGraphqlWs({
    httpServer,
    isDraining: () => state.draining || !state.started,
    yoga: yoga as never,
    schema,
    sessions: services.sessions,
    subscriptions: services.subscriptions,
    baseContext,
    addressOf: (request) => clientAddress(request, trustedProxies),
    // Another site's page may not open a socket from a visitor's browser (CORS does not cover WebSocket).
    originAllowed: (request) => isAllowedOrigin(origins, request.headers.origin, request.headers.host),
    metrics: services.metrics,
    log: services.log,
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
}

/** What start and stop work on. */
interface Lifecycle {
  config: Config;
  services: Services;
  state: NodeState;
  httpServer: Server;
  metricsAt: MetricsAt;
}

async function startNode({ config, services, state, httpServer, metricsAt, serveMetrics }: Lifecycle & { serveMetrics: ReturnType<typeof metricsHandler> }): Promise<string> {
  const { log } = services;
  if (config.METRICS_PORT !== undefined) {
    metricsAt.listener = await listenForMetrics({
      host: config.METRICS_HOST ?? config.HOST,
      port: config.METRICS_PORT,
      handle: serveMetrics,
      onError: (error) => log.error({ err: error }, 'metrics request failed'),
    });
    metricsAt.url = metricsAt.listener.url;
    log.info({ url: metricsAt.url }, 'metrics on their own listener');
  }
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.PORT, config.HOST, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
  const url = `http://${host}:${port}`;
  await services.start(url);
  state.started = true;
  services.announce(url);
  metricsAt.url ??= `${url}/metrics`;
  return url;
}

async function stopNode({ config, services, state, httpServer, metricsAt, ws }: Lifecycle & { ws: ReturnType<typeof attachGraphqlWs> }): Promise<void> {
  // Not ready at once (balancers stop sending new connections), still answering /readyz with
  // 503 through the grace period; then every socket is closed with 1012 so clients reconnect
  // elsewhere and resume with afterSeq.
  state.draining = true;
  await services.withdraw();
  await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_GRACE_MS).unref());
  httpServer.close();
  await ws.close(CloseCodes.ServiceRestart.code, 'server restarting: reconnect and resume with afterSeq');
  httpServer.closeAllConnections();
  await metricsAt.listener?.close();
  await services.close();
}
