import { describe, expect, it } from 'vitest';
import { getOperationAST, parse } from 'graphql';
import { buildSchema } from '../../schema/index.js';
import { operationCost, UNBOUNDED_LIST_ITEMS } from '../../src/server/plugins/listCost.js';

const schema = buildSchema();
const cost = (query: string, variables: Record<string, unknown> = {}) => {
  const document = parse(query);
  return operationCost({ schema, document, operation: getOperationAST(document)!, variables });
};

describe('operationCost: objects an answer can hold, lists times their size', () => {
  it('scalars are free, each object counts one', () => {
    expect(cost('{ me { id name } }')).toBe(1);
    expect(cost('mutation { sendMessage(roomId: "r", body: "b", clientMessageId: "c") { id author { id } } }')).toBe(2);
  });

  it('a list counts its limit, or the default when the limit is omitted', () => {
    expect(cost('{ roomEvents(roomId: "r", limit: 1000) { seq } }')).toBe(1_000);
    expect(cost('{ roomEvents(roomId: "r") { seq } }')).toBe(100);
    expect(cost('{ messages(roomId: "r") { id author { id } } }')).toBe(50 * 2);
    expect(cost('{ rooms { id name } }')).toBe(500);
  });

  it('reads the limit from variables, and from a variable default', () => {
    const query = 'query($n: Int) { roomEvents(roomId: "r", limit: $n) { seq } }';
    expect(cost(query, { n: 10 })).toBe(10);
    expect(cost(query, {})).toBe(100);
    expect(cost('query($n: Int = 700) { roomEvents(roomId: "r", limit: $n) { seq } }')).toBe(700);
  });

  it('never counts more than the use case returns, nor less than one item', () => {
    expect(cost('{ roomEvents(roomId: "r", limit: 100000) { seq } }')).toBe(1_000);
    expect(cost('{ messages(roomId: "r", limit: 5000) { id } }')).toBe(200);
    expect(cost('{ messages(roomId: "r", limit: -3) { id } }')).toBe(1);
    expect(cost('query($n: Int) { messages(roomId: "r", limit: $n) { id } }', { n: 'lots' })).toBe(50);
  });

  it('aliases add up: the 60 MB attack of issue 11 costs 15 × 1,000 × (event + message + author)', () => {
    const alias = (i: number) => `a${i}: roomEvents(roomId: "r", limit: 1000) { seq ... on MessagePosted { message { body author { name } } } }`;
    expect(cost(`{ ${Array.from({ length: 15 }, (_, i) => alias(i)).join(' ')} }`)).toBe(15 * 1_000 * 3);
  });

  it('an interface selection costs its dearest type, not the sum of every fragment', () => {
    const query = `{ roomEvents(roomId: "r", limit: 10) {
      seq
      ... on MessagePosted { message { id author { id } } }
      ... on MemberJoined { user { id } }
      ... on RoomCreated { createdBy { id } }
    } }`;
    expect(cost(query)).toBe(10 * (1 + 2));
  });

  it('follows fragments, and lists without a bound count a fixed number of items', () => {
    const query = `fragment U on User { id } fragment P on Presence { online { ...U } typing { ...U } }
      { room(id: "r") { presence { ...P } } }`;
    expect(cost(query)).toBe(1 + 1 + 2 * UNBOUNDED_LIST_ITEMS);
    expect(cost('{ rooms { presence { online { id } } } }')).toBe(500 * (1 + 1 + UNBOUNDED_LIST_ITEMS));
  });

  it('a subscription is one object per event', () => {
    expect(cost('subscription { roomEvents(roomId: "r") { seq ... on MessagePosted { message { id } } } }')).toBe(2);
  });
});
