import {
  Kind,
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isListType,
  isObjectType,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/**
 * What an operation costs: how many objects its answer can hold at most. Every object counts 1
 * (scalars are free: an object's own fields are bounded by the schema and the body/name limits),
 * and a list counts its items times the cost of one item, where the number of items is what the
 * list's arguments allow. That is what graphql-armor's cost limit does not do (it multiplies only
 * by literal `first`/`last`), and why 15 aliases of `roomEvents(limit: 1000)` passed it.
 *
 * The figure is an upper bound computed before anything runs, from the document and the variables.
 */

/** How many items a list field can return. */
export interface ListSize {
  /** The argument that sets the size (its schema default when omitted). */
  argument?: string;
  /** The most the use case returns (what a larger argument is refused or cut to). */
  max: number;
}

/**
 * The lists the API bounds by an argument or a fixed cap (the use cases' own caps: messages 200,
 * roomEvents 1,000, the room directory and the viewer's rooms 500). A list not named here counts UNBOUNDED_LIST_ITEMS.
 */
export const LIST_SIZES: Readonly<Record<string, ListSize>> = {
  'Query.messages': { argument: 'limit', max: 200 },
  'Query.roomEvents': { argument: 'limit', max: 1_000 },
  'Query.rooms': { max: 500 },
  'Query.myRooms': { max: 500 },
};

/** Items assumed for a list with no argument and no cap (who is online or typing in a room). */
export const UNBOUNDED_LIST_ITEMS = 100;

export interface CostInput {
  schema: GraphQLSchema;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** The variables as the client sent them (not yet coerced). */
  variables?: Readonly<Record<string, unknown>> | null;
}

export function operationCost({ schema, document, operation, variables }: CostInput): number {
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  // A variable the client left out takes its definition's default (`$limit: Int = 1000`).
  const values: Record<string, unknown> = { ...variables };
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (values[name] === undefined && definition.defaultValue) values[name] = literal(definition.defaultValue, {});
  }
  const walk = new CostWalk(schema, fragments, values);
  return walk.selectionSet(operation.selectionSet, root, new Set());
}

class CostWalk {
  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly variables: Readonly<Record<string, unknown>>,
  ) {}

  /**
   * The cost of a selection set on `type`. On an interface or union the answer is one of its
   * object types: the dearest of them counts (summing every type's fragments would charge the
   * usual `... on MessagePosted … ... on MemberJoined …` selection for all the types at once).
   */
  selectionSet(selectionSet: SelectionSetNode, type: GraphQLNamedType, spreading: ReadonlySet<string>): number {
    if (isObjectType(type)) return this.onObject(selectionSet, type, spreading);
    if (!isAbstractType(type)) return 0;
    let dearest = 0;
    for (const possible of this.schema.getPossibleTypes(type)) dearest = Math.max(dearest, this.onObject(selectionSet, possible, spreading));
    return dearest;
  }

  private onObject(selectionSet: SelectionSetNode, type: GraphQLObjectType, spreading: ReadonlySet<string>): number {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const field = type.getFields()[selection.name.value];
        // Unknown fields and introspection (`__typename`, `__schema`) cost nothing here: validation
        // refused the first, and the others answer from the schema alone.
        if (!field || !selection.selectionSet) continue;
        const named = getNamedType(field.type);
        if (!isCompositeType(named)) continue;
        const item = 1 + this.selectionSet(selection.selectionSet, named, spreading);
        cost += item * this.itemsOf(type, field, selection.arguments ?? []);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (selection.typeCondition && !this.applies(selection.typeCondition.name.value, type)) continue;
        cost += this.onObject(selection.selectionSet, type, spreading);
      } else {
        const name = selection.name.value;
        const fragment = this.fragments.get(name);
        // A fragment spread inside itself is a cycle validation refuses; count it once.
        if (!fragment || spreading.has(name) || !this.applies(fragment.typeCondition.name.value, type)) continue;
        cost += this.onObject(fragment.selectionSet, type, new Set([...spreading, name]));
      }
    }
    return cost;
  }

  /** Whether a fragment on `condition` applies to objects of `type`. */
  private applies(condition: string, type: GraphQLObjectType): boolean {
    if (condition === type.name) return true;
    const conditionType = this.schema.getType(condition);
    return conditionType !== undefined && isAbstractType(conditionType) && this.schema.isSubType(conditionType, type);
  }

  /** 1 for a single object; for a list, the most items its arguments let it return. */
  private itemsOf(parent: GraphQLObjectType, field: GraphQLField<unknown, unknown>, args: readonly { name: { value: string }; value: ValueNode }[]): number {
    // Lists of lists do not occur in this schema; the outer list is what the arguments bound.
    if (!isListType(getNullableType(field.type))) return 1;
    const size = LIST_SIZES[`${parent.name}.${field.name}`];
    if (!size) return UNBOUNDED_LIST_ITEMS;
    if (!size.argument) return size.max;
    const node = args.find((arg) => arg.name.value === size.argument)?.value;
    const given = node ? literal(node, this.variables) : undefined;
    const fallback = field.args.find((arg) => arg.name === size.argument)?.defaultValue;
    const items = typeof given === 'number' ? given : typeof fallback === 'number' ? fallback : size.max;
    // Out of range is refused when the field runs; here it must only not make the cost smaller.
    return Number.isFinite(items) ? Math.min(size.max, Math.max(1, Math.trunc(items))) : size.max;
  }
}

/** A numeric argument's value: a literal, or a variable's; anything else is not a number. */
function literal(node: ValueNode, variables: Readonly<Record<string, unknown>>): unknown {
  if (node.kind === Kind.INT || node.kind === Kind.FLOAT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) return variables[node.name.value];
  return undefined;
}
