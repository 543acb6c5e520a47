import type { GraphQLSchema } from 'graphql';
import {
  GraphQLError,
  Kind,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  type DocumentNode,
  type ExecutionArgs,
  type OperationDefinitionNode,
} from 'graphql';
import type { Context as WsContext, SubscribePayload } from 'graphql-ws';
import type { Extra } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import type { YogaServerInstance } from 'graphql-yoga';
import type { Sessions } from '../auth/sessions.js';
import type { UserRef } from '../domain/events.js';
import type { Subscriptions } from '../fanout/subscriptions.js';
import type { Metrics } from '../metrics.js';
import type { GraphQLContext } from '../../schema/builder.js';
import { toGraphQLError } from '../../schema/errors.js';
import { RawSocketSink, type SlowConsumerPolicy } from './rawSocketSink.js';
import type { ConnectionSlots } from './connectionSlots.js';
import type { OperationGroups } from './sharedExecution.js';
import { operationViewer } from './operationAuth.js';
import type { DocumentCache } from './documentCache.js';

/** What we keep per connection, beside graphql-ws's own context. */
export interface Connection {
  id: string;
  viewer: UserRef | null;
  clientAddress: string | null;
  slots: ConnectionSlots;
}

export type Ctx = WsContext<Record<string, unknown> | undefined, Extra & { connection?: Connection }>;

/** Execution args plus what our `subscribe`/`execute` hooks need (kept off `rootValue`). */
export type Args = ExecutionArgs & {
  enveloped?: { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };
  raw?: RawSocketSink;
};

/** What setting up an operation on a connection works with (from attachGraphqlWs's options). */
export interface OperationDeps {
  yoga: YogaServerInstance<Record<string, unknown>, Record<string, unknown>>;
  schema: GraphQLSchema;
  sessions: Sessions;
  subscriptions: Subscriptions;
  baseContext: Omit<GraphQLContext, 'viewer' | 'connectionId' | 'clientAddress'>;
  groups: OperationGroups;
  metrics: Metrics;
  log: Logger;
  slowConsumer: SlowConsumerPolicy;
  /** roomEvents subscriptions that parsed and validated, by text then operation name (bounded: documentCache.ts). */
  roomEventsOperations: DocumentCache<Map<string, ValidOperation>>;
}

type Enveloped = ReturnType<OperationDeps['yoga']['getEnveloped']>;

/** An operation that parsed and passed validation. */
export interface ValidOperation {
  document: DocumentNode;
  operation: OperationDefinitionNode;
}

/**
 * graphql-ws's onSubscribe: parses and validates through Yoga's envelop, takes the connection's
 * slot, authenticates the operation, and starts roomEvents on the shared-execution fast path.
 */
export async function subscribeOperation(
  deps: OperationDeps,
  ctx: Ctx,
  id: string,
  payload: SubscribePayload,
): Promise<Args | readonly GraphQLError[]> {
  const connection = ctx.extra.connection!;
  // A roomEvents subscription's text seen before skips the envelope: on that path nothing but
  // parsing and validation came from it, and both depend on the text alone.
  const known = deps.roomEventsOperations.get(payload.query)?.get(payload.operationName ?? '');
  const enveloped = known ? undefined : deps.yoga.getEnveloped({ ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params: payload });
  const parsed = known ?? parseAndValidate(enveloped!, payload);
  if (!('document' in parsed)) return parsed;
  const { document, operation } = parsed;
  // The slot is taken here, before the first `await`: subscribes sent back to back each find
  // the ones before them counted. It is free again once graphql-ws no longer lists the
  // operation (connectionSlots.ts), or at once on an early return below.
  const kind = operation.operation === 'subscription' ? 'subscription' : 'operation';
  const refused = connection.slots.reserve(id, kind, (other) => other in ctx.subscriptions);
  if (refused) return [operationError(deps.log, refused)];
  let viewer;
  try {
    viewer = await operationViewer(connection.viewer, payload, deps.sessions);
  } catch (error) {
    connection.slots.release(id);
    return [operationError(deps.log, error, 'operation authentication failed')];
  }
  const contextValue: GraphQLContext = { ...deps.baseContext, viewer, connectionId: connection.id, clientAddress: connection.clientAddress };
  const args: Args = {
    schema: enveloped?.schema ?? deps.schema,
    document,
    operationName: payload.operationName,
    variableValues: payload.variables,
    contextValue,
  };
  if (isRoomEventsSubscription(operation)) {
    if (!known) remember(deps.roomEventsOperations, payload, parsed);
    try {
      args.raw = await startRawRoomEvents(deps, ctx, id, operation, args, contextValue);
    } catch (error) {
      connection.slots.release(id);
      return [operationError(deps.log, error, 'roomEvents subscribe failed')];
    }
  } else {
    args.enveloped = enveloped as unknown as Args['enveloped'];
  }
  return args;
}

/**
 * Keeps a validated roomEvents operation under its text, then the operation name it was asked by
 * (two levels, so a lookup builds no key string).
 */
function remember(cache: OperationDeps['roomEventsOperations'], payload: SubscribePayload, parsed: ValidOperation): void {
  const byName = cache.get(payload.query) ?? new Map<string, ValidOperation>();
  byName.set(payload.operationName ?? '', parsed);
  cache.set(payload.query, byName);
}

/** The operation's document and definition, or the errors to answer it with. */
function parseAndValidate(enveloped: Enveloped, payload: SubscribePayload): ValidOperation | readonly GraphQLError[] {
  let document: DocumentNode;
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
  return { document, operation };
}

/**
 * What graphql-ws sends for an operation refused before it runs (Yoga's masking never sees
 * these): a ChatError's public form (schema/errors.ts), a GraphQLError as it is (variable
 * coercion), anything else logged and masked as Yoga masks it.
 */
function operationError(log: Logger, error: unknown, what = 'operation failed'): GraphQLError {
  const mapped = toGraphQLError(error);
  if (mapped) return mapped;
  if (error instanceof GraphQLError) return error;
  log.error({ err: error }, what);
  return new GraphQLError('Unexpected error.');
}

async function startRawRoomEvents(
  deps: OperationDeps,
  ctx: Ctx,
  id: string,
  operation: OperationDefinitionNode,
  args: Args,
  contextValue: GraphQLContext,
): Promise<RawSocketSink> {
  const { schema, metrics } = deps;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], (args.variableValues ?? {}) as Record<string, unknown>);
  if (coerced.errors) throw coerced.errors[0];
  const field = operation.selectionSet.selections[0]!;
  const fieldDef = schema.getSubscriptionType()!.getFields().roomEvents!;
  const fieldArgs = getArgumentValues(fieldDef, field as never, coerced.coerced) as { roomId: string; afterSeq?: number | null };
  const group = deps.groups.acquire({
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
    deps.slowConsumer,
    () => metrics.slowConsumers.inc(),
    () => void metrics.deliveries.count++,
  );
  try {
    sink.onReturn = await deps.subscriptions.roomEvents(contextValue.viewer, String(fieldArgs.roomId), fieldArgs.afterSeq, contextValue.connectionId, sink);
  } catch (error) {
    await sink.return();
    throw error;
  }
  return sink;
}

/** A subscription whose only root field is roomEvents (no alias tricks beyond a rename). */
function isRoomEventsSubscription(operation: OperationDefinitionNode): boolean {
  if (operation.operation !== 'subscription') return false;
  const [only, ...rest] = operation.selectionSet.selections;
  return rest.length === 0 && only?.kind === Kind.FIELD && only.name.value === 'roomEvents' && !only.directives?.length;
}
