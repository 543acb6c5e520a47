import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import { ChatClientError, fromCombinedError } from './errors.js';
import type { Connection } from './connection.js';

export interface RequestOptions {
  /** Try again after a lost connection (only for operations that are safe to repeat). */
  retry: boolean;
}

/**
 * One query or mutation over the connection. With `retry`, a NETWORK failure waits for the
 * reconnect and sends the operation again; any other error is thrown as a ChatClientError.
 */
export async function request<Data, Variables extends AnyVariables>(
  connection: Connection,
  kind: 'query' | 'mutation',
  document: TypedDocumentNode<Data, Variables>,
  variables: Variables,
  options: RequestOptions,
): Promise<Data> {
  const release = connection.hold();
  try {
    for (;;) {
      if (connection.closed) throw connection.finalError ?? new ChatClientError('CLOSED', 'the client is closed');
      const operation = kind === 'query' ? connection.urql.query(document, variables) : connection.urql.mutation(document, variables);
      // An operation cut off by close() may never answer: stop waiting when the client closes.
      const result = await Promise.race([operation.toPromise(), connection.whenClosed.then(() => undefined)]);
      // No result at all: the operation ended with the socket (the client was closed meanwhile).
      if (!result) throw connection.finalError ?? new ChatClientError(connection.closed ? 'CLOSED' : 'NETWORK', 'the connection ended before an answer');
      if (!result.error && result.data) return result.data;
      const error = result.error ? fromCombinedError(result.error) : new ChatClientError('INTERNAL', 'the server answered without data');
      if (error.code !== 'NETWORK' || !options.retry) throw error;
      await connection.waitToRetry().catch(() => {
        throw new ChatClientError('CLOSED', 'the client is closed');
      });
    }
  } finally {
    release();
  }
}
