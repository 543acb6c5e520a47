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
import { wholeFrame, type SharedMessage } from './sharedFrame.js';

/**
 * Executes a roomEvents subscription's selection ONCE per event for every subscriber that sent
 * the same operation, and serializes the result once. graphql-ws as documented executes and
 * stringifies per subscriber, which is what makes naive GraphQL fan-out several times slower than
 * a bare WebSocket broadcast (docs/architecture.md, "The fan-out fast path").
 *
 * Operations are grouped by (the parsed operation, the variables the selection uses). The
 * root field's own arguments (roomId, afterSeq) only choose WHICH events flow, not how each one
 * renders, so subscribers resuming from different seqs still share a group. This is sound because
 * every RoomEvent resolver is synchronous and depends on the event alone (schema/roomEvent.ts).
 */
export class OperationGroups {
  /**
   * By operation, then by the variables the selection uses: a room's subscribers hand in the very
   * same operation object (documents are cached by text, wsOperations.ts), so no key is built from
   * the query's text at each subscribe. The same text parsed twice (after the cache let it go)
   * makes a second group, which renders alike.
   */
  private readonly groups = new WeakMap<OperationDefinitionNode, Map<string, OperationGroup>>();
  private count = 0;

  constructor(private readonly schema: GraphQLSchema) {}

  acquire(request: {
    document: DocumentNode;
    operation: OperationDefinitionNode;
    operationName: string | null | undefined;
    variables: Record<string, unknown>;
    contextValue: unknown;
  }): OperationGroup {
    const used = variablesUsedBySelection(request.document, request.operation);
    const key = used.length === 0 ? '' : JSON.stringify(used.map((name) => request.variables[name] ?? null));
    let byVariables = this.groups.get(request.operation);
    if (!byVariables) this.groups.set(request.operation, (byVariables = new Map()));
    let group = byVariables.get(key);
    if (!group) {
      const groups = byVariables;
      group = new OperationGroup(this.schema, request, () => {
        groups.delete(key);
        this.count--;
      });
      groups.set(key, group);
      this.count++;
    }
    group.refs++;
    return group;
  }

  get size(): number {
    return this.count;
  }
}

const CACHE_SIZE = 256;

export class OperationGroup {
  refs = 0;
  /** Recent renders by room and seq; events are immutable, so an entry never goes stale. */
  private readonly cache = new Map<string, string>();
  /** The last event's body and whole frames by id: a fan-out hands one event to every subscriber in turn. */
  private last: { key: string; body: Buffer; frames: Map<string, Buffer> } | null = null;
  /** Subscriptions in this group by their graphql-ws id. */
  private readonly ids = new Map<string, number>();

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
    if (this.last?.key !== key) this.last = { key, body: Buffer.from(`${this.render(event)}}`), frames: new Map() };
    return this.last.body;
  }

  /**
   * The message for the subscription `id` (whose own part is `head`). When several subscribers of
   * this group use the same id (clients that number their operations from 1 do), the whole frame
   * is built once per event and the same buffer goes to each of them, in one write per socket;
   * otherwise each socket gets the shared body behind its own head.
   */
  message(event: RoomEvent, id: string, head: Buffer): SharedMessage {
    const body = this.body(event);
    if ((this.ids.get(id) ?? 0) < 2) return { head, body };
    let frame = this.last!.frames.get(id);
    if (!frame) this.last!.frames.set(id, (frame = wholeFrame({ head, body })));
    return { head, body, frame };
  }

  /** A subscription with this id joins the group (see `message`); `leave` when it ends. */
  join(id: string): void {
    this.ids.set(id, (this.ids.get(id) ?? 0) + 1);
  }

  leave(id: string): void {
    const left = (this.ids.get(id) ?? 0) - 1;
    if (left > 0) this.ids.set(id, left);
    else this.ids.delete(id);
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

/**
 * By operation: parsed documents are cached by their text (wsOperations.ts), so the subscribers of
 * a room hand in the very same operation object, and walking it again for each was a twentieth of
 * accepting a subscription. Sorted, ready to pick the variables out.
 */
const variablesByOperation = new WeakMap<OperationDefinitionNode, readonly string[]>();

function variablesUsedBySelection(document: DocumentNode, operation: OperationDefinitionNode): readonly string[] {
  let names = variablesByOperation.get(operation);
  if (!names) variablesByOperation.set(operation, (names = [...collectVariables(document, operation)].sort()));
  return names;
}

function collectVariables(document: DocumentNode, operation: OperationDefinitionNode): Set<string> {
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
