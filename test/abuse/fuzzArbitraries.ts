/**
 * fast-check arbitraries for the fuzz test (fuzz.e2e.test.ts): GraphQL operations generated from
 * the schema itself (real fields and arguments, with values that are right, wrong, empty or huge),
 * garbage documents, and graphql-ws frames of every kind, valid or not.
 */
import fc from 'fast-check';
import {
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';

export interface Operation {
  query: string;
  variables: Record<string, unknown>;
}

/** Ids that exist on the node under test, so some operations reach the use cases. */
export interface Known {
  roomIds: string[];
  messageIds: string[];
}

type Draw = fc.GeneratorValue;

/** One of `items` (by index: fc.constantFrom compares its items deeply, and schema objects are cyclic). */
function pick<T>(g: Draw, items: readonly T[]): T {
  return items[g(fc.integer, { min: 0, max: items.length - 1 })]!;
}

const HUGE = 'x'.repeat(70_000);
const text = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('', ' ', 'hello', '\u202Eevil', '\u0000', '\uD800', 'x'.repeat(5_000), HUGE.slice(0, 20_000)),
);
const int = fc.oneof(fc.integer(), fc.constantFrom(0, -1, 1, 50, 1_000, 1_001, 2 ** 31 - 1, -(2 ** 31)));
const wrongValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.double(), fc.constant(2 ** 53), fc.constant(null));

/** A JS value for an input type (sent as a variable), right most of the time. */
function valueFor(g: Draw, type: GraphQLInputType, known: Known): unknown {
  if (g(fc.integer, { min: 0, max: 9 }) === 0) return g(() => wrongValue);
  const nullable = getNullableType(type);
  if (isListType(nullable)) return Array.from({ length: g(fc.integer, { min: 0, max: 3 }) }, () => valueFor(g, nullable.ofType, known));
  const named = getNamedType(type);
  if (isEnumType(named)) return g(fc.constantFrom, ...named.getValues().map((v) => v.name));
  if (isInputObjectType(named)) return g(() => fc.jsonValue({ maxDepth: 2 }));
  switch (named.name) {
    case 'ID':
      return g(() => fc.oneof(fc.constantFrom(...known.roomIds, ...known.messageIds, 'nope', ''), text));
    case 'Int':
      return g(() => int);
    case 'Boolean':
      return g(fc.boolean);
    case 'DateTime':
      return g(() => fc.oneof(fc.constant(new Date(0).toISOString()), text));
    default:
      return g(() => text);
  }
}

/** The same as a GraphQL literal (strings through JSON, which GraphQL reads the same way). */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${/^[_A-Za-z]\w*$/.test(k) ? k : 'bad'}: ${literal(v)}`).join(', ')}}`;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '0';
  return JSON.stringify(value);
}

class OperationBuilder {
  readonly variables: Record<string, unknown> = {};
  readonly definitions: string[] = [];

  constructor(
    private readonly g: Draw,
    private readonly schema: GraphQLSchema,
    private readonly known: Known,
  ) {}

  argument(arg: GraphQLArgument): string | null {
    const { g } = this;
    if (!String(arg.type).endsWith('!') && g(fc.integer, { min: 0, max: 2 }) === 0) return null;
    const value = valueFor(g, arg.type, this.known);
    if (g(fc.boolean)) {
      const name = `v${this.definitions.length}`;
      // Now and then the variable is declared with another type than the argument's.
      const declared = g(fc.integer, { min: 0, max: 9 }) === 0 ? g(fc.constantFrom, 'Int', 'String!', '[ID]', 'Boolean') : String(arg.type);
      this.definitions.push(`$${name}: ${declared}`);
      if (g(fc.integer, { min: 0, max: 9 }) > 0) this.variables[name] = value;
      return `${arg.name}: $${name}`;
    }
    return `${arg.name}: ${literal(value)}`;
  }

  selection(type: GraphQLNamedType, depth: number): string {
    const { g } = this;
    if (!isCompositeType(type)) return '';
    const parts: string[] = [];
    if (isObjectType(type) || 'getFields' in type) {
      const fields = Object.values((type as { getFields(): Record<string, { name: string; type: GraphQLNamedType; args?: readonly GraphQLArgument[] }> }).getFields());
      const count = g(fc.integer, { min: 1, max: Math.min(4, fields.length) });
      for (let i = 0; i < count; i++) {
        const field = pick(g, fields);
        const named = getNamedType(field.type);
        if (isCompositeType(named)) {
          if (depth >= 4) continue;
          parts.push(`${field.name} { ${this.selection(named, depth + 1) || '__typename'} }`);
        } else parts.push(field.name);
      }
    }
    if (isAbstractType(type)) {
      for (const possible of this.schema.getPossibleTypes(type)) {
        if (g(fc.integer, { min: 0, max: 2 }) === 0) parts.push(`... on ${possible.name} { ${this.selection(possible, depth + 1) || '__typename'} }`);
      }
    }
    if (g(fc.integer, { min: 0, max: 4 }) === 0) parts.push('__typename');
    if (g(fc.integer, { min: 0, max: 19 }) === 0) parts.push('noSuchField');
    return parts.join(' ');
  }
}

/** An operation built from the schema: real root fields with arguments and selections. */
export function schemaOperation(schema: GraphQLSchema, known: Known, kinds: ReadonlyArray<'query' | 'mutation' | 'subscription'>): fc.Arbitrary<Operation> {
  return fc.gen().map((g) => {
    const kind = g(fc.constantFrom, ...kinds);
    const root = schema.getRootType(kind)!;
    const builder = new OperationBuilder(g, schema, known);
    const fields = Object.values(root.getFields());
    // Subscriptions may have one root field only; queries and mutations a few, some aliased.
    const count = kind === 'subscription' ? 1 : g(fc.integer, { min: 1, max: 3 });
    const selections: string[] = [];
    for (let i = 0; i < count; i++) {
      const field = pick(g, fields);
      const args = field.args.map((arg: GraphQLArgument) => builder.argument(arg)).filter((a: string | null): a is string => a !== null);
      const named = getNamedType(field.type);
      const alias = g(fc.boolean) ? `a${i}: ` : '';
      const inner = isCompositeType(named) ? ` { ${builder.selection(named, 1) || '__typename'} }` : '';
      selections.push(`${alias}${field.name}${args.length ? `(${args.join(', ')})` : ''}${inner}`);
    }
    const head = builder.definitions.length ? `${kind} Fuzz(${builder.definitions.join(', ')})` : kind;
    return { query: `${head} { ${selections.join(' ')} }`, variables: builder.variables };
  });
}

/** Schema operations, garbage, and schema operations with a slice cut out or doubled. */
export function anyOperation(schema: GraphQLSchema, known: Known, kinds: ReadonlyArray<'query' | 'mutation' | 'subscription'>): fc.Arbitrary<Operation> {
  const valid = schemaOperation(schema, known, kinds);
  const mangled = fc.tuple(valid, fc.nat(), fc.nat({ max: 20 }), fc.boolean()).map(([op, at, length, cut]) => {
    const i = at % (op.query.length + 1);
    const query = cut ? op.query.slice(0, i) + op.query.slice(i + length) : op.query.slice(0, i) + op.query.slice(i, i + length).repeat(3) + op.query.slice(i);
    return { ...op, query };
  });
  const garbage = fc.record({ query: fc.oneof(text, fc.constantFrom('{', '}', '{ __schema { types { name } } }', 'query { rooms { id } } query { me { id } }')), variables: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 })) });
  return fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: mangled, weight: 2 }, { arbitrary: garbage, weight: 1 });
}

/** One graphql-ws frame as sent: an object (sent as JSON) or raw text. */
export function wsFrame(schema: GraphQLSchema, known: Known, token: string): fc.Arbitrary<object | string> {
  const id = fc.oneof(fc.constantFrom('1', '2', 'a'), fc.string({ maxLength: 12 }), fc.constant('i'.repeat(50_000)), fc.constant(HUGE), fc.integer(), fc.constant(null));
  const operation = anyOperation(schema, known, ['query', 'mutation', 'subscription']);
  return fc.oneof(
    { arbitrary: fc.constant({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }), weight: 3 },
    fc.record({ type: fc.constant('connection_init'), payload: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant({ authorization: 'Bearer forged' })) }),
    fc.constantFrom({ type: 'ping' }, { type: 'pong' }, { type: 'ping', payload: { x: 1 } }),
    { arbitrary: fc.record({ id, type: fc.constant('subscribe'), payload: operation }), weight: 6 },
    fc.record({ id, type: fc.constant('subscribe'), payload: fc.jsonValue({ maxDepth: 2 }) }),
    fc.record({ id, type: fc.constant('complete') }),
    fc.record({ id, type: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('next', 'error', 'connection_ack', 'start', 'stop')), payload: fc.jsonValue({ maxDepth: 2 }) }),
    fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
    fc.oneof(text, fc.constantFrom('{', '{"type":', '{"type":"subscribe","id":"1","payload":{"query":1}}')),
  );
}
