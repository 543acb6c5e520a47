import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  GraphQLError,
  Kind,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  type ExecutionArgs,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { Context as WsContext } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import type { YogaServerInstance } from 'graphql-yoga';
import { bearerToken, type Sessions } from '../auth/sessions.js';
import type { UserRef } from '../domain/events.js';
import type { Subscriptions } from '../fanout/subscriptions.js';
import type { Metrics } from '../metrics.js';
import type { GraphQLContext } from '../../schema/builder.js';
import { toGraphQLError } from '../../schema/errors.js';
import { RawSocketSink, type SlowConsumerPolicy } from './rawSocketSink.js';
import { ConnectionSlots } from './connectionSlots.js';
import { boundSocketOutput } from './socketOutput.js';
import { refuseServerOnlyFrames } from './clientFrames.js';
import { OperationGroups } from './sharedExecution.js';
import { operationViewer } from './operationAuth.js';

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

/** What we keep per connection, beside graphql-ws's own context. */
interface Connection {
  id: string;
  viewer: UserRef | null;
  clientAddress: string | null;
  slots: ConnectionSlots;
}

type Ctx = WsContext<Record<string, unknown> | undefined, Extra & { connection?: Connection }>;

/** Execution args plus what our `subscribe`/`execute` hooks need (kept off `rootValue`). */
type Args = ExecutionArgs & {
  enveloped?: { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };
  raw?: RawSocketSink;
};

/**
 * graphql-ws on the same port and path as Yoga. Queries, mutations, presence and notices run
 * through Yoga's envelop (masking, depth and cost limits apply alike); roomEvents subscriptions,
 * the hot path, take the shared-execution fast path (see RawSocketSink and OperationGroups).
 */
export function attachGraphqlWs(options: GraphqlWsOptions) {
  const { yoga, schema, sessions, subscriptions, metrics, log, limits } = options;
  const groups = new OperationGroups(schema);
  // noServer: we take upgrades ourselves, to refuse them cleanly (503) while the node drains.
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayloadBytes });
  options.httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '').split('?')[0];
    const refusal =
      path !== yoga.graphqlEndpoint
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

  refuseServerOnlyFrames(wss);
  const server = useServer<Record<string, unknown> | undefined, { connection?: Connection }>(
    {
      connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
      async onConnect(ctx: Ctx) {
        const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization ?? ctx.extra.request.headers.authorization;
        const token = bearerToken(header);
        const viewer = token ? await sessions.verify(token) : null;
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
      },
      async onSubscribe(ctx: Ctx, id, payload) {
        const connection = ctx.extra.connection!;
        const enveloped = yoga.getEnveloped({ ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params: payload });
        let document;
        try {
          document = enveloped.parse(payload.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError('could not parse the query')];
        }
        let errors;
        try {
          errors = enveloped.validate(enveloped.schema, document);
        } catch (error) {
          // Limit plugins (aliases, depth, cost) may throw from validation: that is the client's
          // operation failing, not the connection, so answer it like any validation error.
          errors = [error instanceof GraphQLError ? error : new GraphQLError('the operation is not valid')];
        }
        if (errors.length > 0) return [...errors];
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) return [new GraphQLError('Unable to identify operation')];
        // The slot is taken here, before the first `await`: subscribes sent back to back each find
        // the ones before them counted. It is free again once graphql-ws no longer lists the
        // operation (connectionSlots.ts), or at once on an early return below.
        const kind = operation.operation === 'subscription' ? 'subscription' : 'operation';
        const refused = connection.slots.reserve(id, kind, (other) => other in ctx.subscriptions);
        if (refused) return [operationError(refused)];
        let viewer;
        try {
          viewer = await operationViewer(connection.viewer, payload, sessions);
        } catch (error) {
          connection.slots.release(id);
          return [operationError(error, 'operation authentication failed')];
        }
        const contextValue: GraphQLContext = { ...options.baseContext, viewer, connectionId: connection.id, clientAddress: connection.clientAddress };
        const args: Args = {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
        };
        if (isRoomEventsSubscription(operation)) {
          try {
            args.raw = await startRawRoomEvents(ctx, id, payload.query, operation, args, contextValue);
          } catch (error) {
            connection.slots.release(id);
            return [operationError(error, 'roomEvents subscribe failed')];
          }
        } else {
          args.enveloped = enveloped as unknown as Args['enveloped'];
        }
        return args;
      },
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

  /**
   * What graphql-ws sends for an operation refused before it runs (Yoga's masking never sees
   * these): a ChatError's public form (schema/errors.ts), a GraphQLError as it is (variable
   * coercion), anything else logged and masked as Yoga masks it.
   */
  function operationError(error: unknown, what = 'operation failed'): GraphQLError {
    const mapped = toGraphQLError(error);
    if (mapped) return mapped;
    if (error instanceof GraphQLError) return error;
    log.error({ err: error }, what);
    return new GraphQLError('Unexpected error.');
  }

  async function startRawRoomEvents(
    ctx: Ctx,
    id: string,
    query: string,
    operation: OperationDefinitionNode,
    args: Args,
    contextValue: GraphQLContext,
  ): Promise<RawSocketSink> {
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], (args.variableValues ?? {}) as Record<string, unknown>);
    if (coerced.errors) throw coerced.errors[0];
    const field = operation.selectionSet.selections[0]!;
    const fieldDef = schema.getSubscriptionType()!.getFields().roomEvents!;
    const fieldArgs = getArgumentValues(fieldDef, field as never, coerced.coerced) as { roomId: string; afterSeq?: number | null };
    const group = groups.acquire({
      query,
      document: args.document,
      operation,
      operationName: args.operationName,
      variables: coerced.coerced,
      contextValue,
    });
    const sink = new RawSocketSink(
      ctx.extra.socket,
      id,
      group,
      limits.slowConsumer,
      () => metrics.slowConsumers.inc(),
      () => void metrics.deliveries.count++,
    );
    try {
      sink.onReturn = await subscriptions.roomEvents(contextValue.viewer, String(fieldArgs.roomId), fieldArgs.afterSeq, contextValue.connectionId, sink);
    } catch (error) {
      await sink.return();
      throw error;
    }
    return sink;
  }

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

/** A subscription whose only root field is roomEvents (no alias tricks beyond a rename). */
function isRoomEventsSubscription(operation: OperationDefinitionNode): boolean {
  if (operation.operation !== 'subscription') return false;
  const [only, ...rest] = operation.selectionSet.selections;
  return rest.length === 0 && only?.kind === Kind.FIELD && only.name.value === 'roomEvents' && !only.directives?.length;
}
