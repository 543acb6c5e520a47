import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Config } from '../config.js';
import type { Logger } from '../../common/logger.js';
import type { Readiness } from './ready.js';
import type { createGraphiQL } from './graphiql.js';
import { COMMON_SECURITY_HEADERS } from './securityHeaders.js';
import { serveWebApp } from './webApp.js';

/** Whether the node serves: read by the routes and the upgrade check, set by start and stop. */
export interface NodeState {
  started: boolean;
  draining: boolean;
}

export interface HttpRoutes {
  config: Config;
  log: Logger;
  state: NodeState;
  ready: () => Promise<Readiness>;
  /** Open WebSocket connections, told by /readyz. */
  connections: () => number;
  serveMetrics: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  graphiql: ReturnType<typeof createGraphiQL> | null;
  yoga: (req: IncomingMessage, res: ServerResponse) => unknown;
}

/** The node's HTTP server: /healthz, /readyz, /metrics, GraphiQL, the web app, then /graphql. */
export function createHttpServer(routes: HttpRoutes): Server {
  const httpServer = createServer((req, res) => {
    route(routes, req, res).catch((error) => {
      routes.log.error({ err: error }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  httpServer.headersTimeout = 10_000;
  httpServer.requestTimeout = 30_000;
  return httpServer;
}

async function route(routes: HttpRoutes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { config, graphiql } = routes;
  const path = (req.url ?? '/').split('?')[0];
  for (const [name, value] of Object.entries(COMMON_SECURITY_HEADERS)) res.setHeader(name, value);
  if (path === '/healthz') return sendJson(res, 200, { status: 'ok', node: config.NODE_ID });
  if (path === '/readyz') return readyz(routes, res);
  if (path === '/metrics' && config.METRICS_PORT === undefined) return routes.serveMetrics(req, res);
  if (graphiql && (await graphiql.serve(req, res))) return;
  if (path !== '/graphql' && (await serveWebApp(req, res))) return;
  if (path !== '/graphql') return sendJson(res, 404, { error: 'not found: the API is at /graphql' });
  if (refuseGraphqlRequest(routes, req, res)) return;
  await routes.yoga(req, res);
}

async function readyz({ config, state, ready, connections }: HttpRoutes, res: ServerResponse): Promise<void> {
  // Whether THIS node can serve: started, not draining, its event store answers. Redis is
  // shared by every node and sends and delivery go on without it, so its state is told in the
  // body (`redis: "degraded"`) and never makes the node unready: a balancer would otherwise
  // take every node out at once.
  const health = state.started && !state.draining ? await ready() : null;
  const isReady = health?.store === true;
  const status = isReady ? 'ready' : state.draining ? 'draining' : !state.started ? 'starting' : 'unavailable';
  // `connections` lets several balancers in front of the same nodes see each other's load.
  return sendJson(res, isReady ? 200 : 503, {
    status,
    ready: isReady,
    ...(health?.redis ? { redis: health.redis } : {}),
    node: config.NODE_ID,
    connections: connections(),
  });
}

/** Answers a /graphql request the node will not run (starting, draining, body too large or unsized). */
function refuseGraphqlRequest({ config, state }: HttpRoutes, req: IncomingMessage, res: ServerResponse): boolean {
  if (state.draining || !state.started) {
    res.setHeader('retry-after', '1');
    const message = state.draining ? 'this node is shutting down; retry on another' : 'this node is starting; retry shortly';
    sendJson(res, 503, { errors: [{ message, extensions: { code: 'UNAVAILABLE' } }] });
    return true;
  }
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > config.MAX_REQUEST_BYTES) {
    sendJson(res, 413, { errors: [{ message: `request body over ${config.MAX_REQUEST_BYTES} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    return true;
  }
  // A chunked body has no declared length to check up front; refuse it rather than read blindly.
  if (req.headers['transfer-encoding'] !== undefined) {
    sendJson(res, 411, { errors: [{ message: 'send a Content-Length', extensions: { code: 'BAD_USER_INPUT' } }] });
    return true;
  }
  return false;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
