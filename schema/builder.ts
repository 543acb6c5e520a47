import SchemaBuilder from '@pothos/core';
import type { ChatUseCases } from '../src/chat/useCases.js';
import type { UserRef } from '../src/domain/events.js';
import type { Subscriptions } from '../src/fanout/subscriptions.js';

/** What every resolver gets. Built per HTTP request, and per operation on a WebSocket. */
export interface GraphQLContext {
  viewer: UserRef | null;
  chat: ChatUseCases;
  subscriptions: Subscriptions;
  /** Identifies the connection for presence (a WebSocket, or one SSE/HTTP request). */
  connectionId: string;
  /**
   * The client's address (per-address limits): the socket's peer, or the address a trusted proxy
   * forwarded (TRUST_PROXY, src/server/clientAddress.ts); null when unknown.
   */
  clientAddress: string | null;
}

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  Scalars: { DateTime: { Input: Date; Output: Date | number } };
  DefaultFieldNullability: false;
}>({ defaultFieldNullability: false });

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO 8601 string in UTC.',
  serialize: (value) => new Date(value).toISOString(),
  parseValue: (value) => {
    const date = new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new TypeError('DateTime must be an ISO 8601 string');
    return date;
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
