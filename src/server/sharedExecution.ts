import {
  GraphQLError,
  Kind,
  executeSync,
  visit,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { RoomEvent } from '../domain/events.js';
import { toGraphQLError } from '../../schema/errors.js';

/**
 * Executes a roomEvents subscription's selection ONCE per event for every subscriber that sent
 * the same operation, and serializes the result once. graphql-ws as documented executes and
 * stringifies per subscriber, which is what makes naive GraphQL fan-out several times slower than
 * a bare WebSocket broadcast (docs/architecture.md, "The fan-out fast path").
 *
 * Operations are grouped by (query text, operation name, the variables the selection uses). The
 * root field's own arguments (roomId, afterSeq) only choose WHICH events flow, not how each one
 * renders, so subscribers resuming from different seqs still share a group. This is sound because
 * every RoomEvent resolver is synchronous and depends on the event alone (schema/roomEvent.ts).
 */
export class OperationGroups {
  private readonly groups = new Map<string, OperationGroup>();

  constructor(private readonly schema: GraphQLSchema) {}

  acquire(request: {
    query: string;
    document: DocumentNode;
    operation: OperationDefinitionNode;
    operationName: string | null | undefined;
    variables: Record<string, unknown>;
    contextValue: unknown;
  }): OperationGroup {
    const used = variablesUsedBySelection(request.document, request.operation);
    const relevant = Object.fromEntries([...used].sort().map((name) => [name, request.variables[name] ?? null]));
    const key = `${request.operationName ?? ''}\u0000${JSON.stringify(relevant)}\u0000${request.query}`;
    let group = this.groups.get(key);
    if (!group) {
      group = new OperationGroup(this.schema, request, () => this.groups.delete(key));
      this.groups.set(key, group);
    }
    group.refs++;
    return group;
  }

  get size(): number {
    return this.groups.size;
  }
}

const CACHE_SIZE = 256;

export class OperationGroup {
  refs = 0;
  /** Recent renders by room and seq; events are immutable, so an entry never goes stale. */
  private readonly cache = new Map<string, string>();
  /** The last event's `body`: a fan-out hands one event to every subscriber in turn. */
  private lastBody: { key: string; bytes: Buffer } | null = null;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly request: {
      document: DocumentNode;
      operationName: string | null | undefined;
      variables: Record<string, unknown>;
      contextValue: unknown;
    },
    private readonly onEmpty: () => void,
  ) {}

  /** The `payload` of a graphql-ws `next` message for this event, as JSON text. */
  render(event: RoomEvent): string {
    const key = `${event.data.roomId}:${event.seq}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const result = executeSync({
      schema: this.schema,
      document: this.request.document,
      rootValue: event,
      contextValue: this.request.contextValue,
      variableValues: this.request.variables,
      operationName: this.request.operationName ?? undefined,
    });
    const json = JSON.stringify(result.errors ? { ...result, errors: result.errors.map(maskError) } : result);
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, json);
    return json;
  }

  /**
   * The event's part of a graphql-ws `next` message for this group, `<payload>}`, as UTF-8 bytes:
   * encoded once per event and written as is to every subscriber's socket (sharedFrame.ts).
   */
  body(event: RoomEvent): Buffer {
    const key = `${event.data.roomId}:${event.seq}`;
    if (this.lastBody?.key !== key) this.lastBody = { key, bytes: Buffer.from(`${this.render(event)}}`) };
    return this.lastBody.bytes;
  }

  release(): void {
    if (--this.refs === 0) this.onEmpty();
  }
}

/**
 * Only errors we raised on purpose keep their message: a ChatError in its public form
 * (schema/errors.ts), or a GraphQLError of graphql-js itself; anything else is a bug and stays
 * hidden. (This path renders without Yoga, so Yoga's masking does not run here.)
 */
function maskError(error: GraphQLError) {
  const chat = toGraphQLError(error);
  if (chat) return chat.toJSON();
  const json = error.toJSON();
  return error.originalError instanceof GraphQLError || !error.originalError
    ? json
    : { message: 'Unexpected error.', locations: json.locations, path: json.path };
}

function variablesUsedBySelection(document: DocumentNode, operation: OperationDefinitionNode): Set<string> {
  const used = new Set<string>();
  const collect = { Variable: (node: { name: { value: string } }) => void used.add(node.name.value) };
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.selectionSet) visit(selection.selectionSet, collect);
      for (const directive of selection.directives ?? []) visit(directive, collect);
    } else {
      visit(selection, collect);
    }
  }
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) visit(definition, collect);
  }
  return used;
}
