import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import type { YogaServerInstance } from 'graphql-yoga';
import { bearerToken, type Sessions } from '../auth/sessions.js';
import type { Subscriptions } from '../fanout/subscriptions.js';
import type { Metrics } from '../metrics.js';
import type { GraphQLContext } from '../../schema/builder.js';
import { toGraphQLError } from '../../schema/errors.js';
import type { SlowConsumerPolicy } from './rawSocketSink.js';
import { ConnectionSlots } from './connectionSlots.js';
import { boundSocketOutput } from './socketOutput.js';
import { refuseServerOnlyFrames } from './clientFrames.js';
import { OperationGroups } from './sharedExecution.js';
import { subscribeOperation, type Args, type Connection, type Ctx, type ValidOperation } from './wsOperations.js';
import { boundedDocumentCache } from './documentCache.js';

export interface GraphqlWsOptions {
  httpServer: HttpServer;
  /** True once the node is shutting down: new WebSocket upgrades are refused with 503. */
  isDraining: () => boolean;
  yoga: YogaServerInstance<Record<string, unknown>, Record<string, unknown>>;
  schema: GraphQLSchema;
  sessions: Sessions;
  subscriptions: Subscriptions;
  baseContext: Omit<GraphQLContext, 'viewer' | 'connectionId' | 'clientAddress'>;
  /** The client's address from the upgrade request (src/server/clientAddress.ts). */
  addressOf: (request: IncomingMessage) => string | null;
  /** Whether the upgrade's Origin may connect (src/server/origins.ts); refused with 403 otherwise. */
  originAllowed?: (request: IncomingMessage) => boolean;
  metrics: Metrics;
  log: Logger;
  limits: {
    maxPayloadBytes: number;
    maxSubscriptionsPerConnection: number;
    /** Queries and mutations running (or still sending their answer) at once on one connection. */
    maxOperationsPerConnection: number;
    connectionInitTimeoutMs: number;
    keepAliveMs: number;
    slowConsumer: SlowConsumerPolicy;
  };
}

/**
 * graphql-ws on the same port and path as Yoga. Queries, mutations, presence and notices run
 * through Yoga's envelop (masking, depth and cost limits apply alike); roomEvents subscriptions,
 * the hot path, take the shared-execution fast path (see RawSocketSink and OperationGroups).
 */
export function attachGraphqlWs(options: GraphqlWsOptions) {
  const { yoga, schema, sessions, subscriptions, metrics, log, limits } = options;
  const deps = {
    yoga,
    schema,
    sessions,
    subscriptions,
    metrics,
    log,
    baseContext: options.baseContext,
    groups: new OperationGroups(schema),
    slowConsumer: limits.slowConsumer,
    // Every subscriber of a room sends the same few texts: validating each once is enough.
    roomEventsOperations: boundedDocumentCache<Map<string, ValidOperation>>({ maxEntries: 256, maxDocumentChars: 4_096 }),
  };
  // noServer: we take upgrades ourselves, to refuse them cleanly (503) while the node drains.
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayloadBytes });
  takeUpgrades(options, wss);

  refuseServerOnlyFrames(wss);
  const server = useServer<Record<string, unknown> | undefined, { connection?: Connection }>(
    {
      connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
      onConnect: (ctx: Ctx) => authenticateConnection(options, ctx),
      onSubscribe: (ctx: Ctx, id, payload) => subscribeOperation(deps, ctx, id, payload),
      // An operation whose iterator ends with a ChatError after it started (FORBIDDEN once the
      // subscriber left a private room) reaches graphql-ws as a thrown error, which it wraps
      // without our code: send that error's public form instead.
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => (toGraphQLError(error) ?? error).toJSON()),
      // The operation is set up: graphql-ws lists it until it is over.
      onOperation: (ctx: Ctx, id) => {
        ctx.extra.connection?.slots.settled(id);
      },
      execute: (args) => (args as Args).enveloped!.execute(args) as never,
      subscribe: (args) => {
        const { raw, enveloped } = args as Args;
        return (raw ?? enveloped!.subscribe(args)) as never;
      },
    },
    wss,
    limits.keepAliveMs,
  );
  watchSockets(wss, options);

  return {
    async close(code: number, reason: string) {
      for (const client of wss.clients) client.close(code, reason);
      await server.dispose();
    },
    get connections() {
      return wss.clients.size;
    },
  };
}

/** Upgrades on the API's path become sockets; others, foreign origins and a draining node are refused. */
function takeUpgrades(options: GraphqlWsOptions, wss: WebSocketServer): void {
  // Read once: Yoga's instance is a Proxy, and a property read through it at every upgrade showed.
  const endpoint = options.yoga.graphqlEndpoint;
  options.httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '').split('?')[0];
    const refusal =
      path !== endpoint
        ? '404 Not Found'
        : options.originAllowed && !options.originAllowed(request)
          ? '403 Forbidden'
          : options.isDraining()
            ? '503 Service Unavailable'
            : null;
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });
}

/** graphql-ws's onConnect: who the connection is (from connection_init or the upgrade's header). */
async function authenticateConnection(options: GraphqlWsOptions, ctx: Ctx): Promise<boolean> {
  const { limits } = options;
  const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization ?? ctx.extra.request.headers.authorization;
  const token = bearerToken(header);
  const viewer = token ? await options.sessions.verify(token) : null;
  // A token that is present but invalid is refused outright (4403), so a client with an
  // expired session learns it at once instead of on every operation.
  if (token && !viewer) return false;
  ctx.extra.connection = {
    id: randomUUID(),
    viewer,
    clientAddress: options.addressOf(ctx.extra.request),
    slots: new ConnectionSlots({ subscription: limits.maxSubscriptionsPerConnection, operation: limits.maxOperationsPerConnection }),
  };
  return true;
}

/** Per-socket bookkeeping: bounded output, the connection gauge, and quiet client errors. */
function watchSockets(wss: WebSocketServer, { limits, metrics, log }: GraphqlWsOptions): void {
  // Registered after useServer's own listener on purpose: graphql-ws prints every socket error
  // with its stack to stderr (a client sending a frame over maxPayload is enough). ws has already
  // closed such a socket with the right code (1009); log it as the client's doing.
  wss.on('connection', (socket) => {
    boundSocketOutput(socket, limits.slowConsumer.maxBufferedBytes, () => metrics.slowConsumers.inc());
    metrics.wsConnections.inc();
    socket.once('close', () => metrics.wsConnections.dec());
    socket.removeAllListeners('error');
    socket.on('error', (error) => log.debug({ err: error }, 'websocket error from a client'));
  });
}
