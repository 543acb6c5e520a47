import { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/**
 * A request Yoga cannot read is the client's mistake, answered 400 and nothing more:
 * - a GET whose `variables` or `extensions` parameter is not JSON made Yoga's parser throw a bare
 *   SyntaxError, which reached the client as a 500 "Unexpected error.";
 * - a POST whose body is not JSON was answered 400 with the parser's own error (its name and
 *   message) in `extensions.originalError`.
 * Both keep Yoga's message and code (BAD_REQUEST) without the parser's internals.
 */
export function useCleanRequestErrors(): Plugin<Record<string, unknown>> {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      const parse = requestParser;
      setRequestParser(async (request) => {
        try {
          return await parse(request);
        } catch (error) {
          throw badRequest(error);
        }
      });
    },
  };
}

function badRequest(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) {
    const { originalError: _internal, http, ...extensions } = error.extensions as Record<string, unknown> & { http?: { status?: number } };
    return createGraphQLError(error.message, { extensions: { ...extensions, http: { status: http?.status ?? 400 } } });
  }
  return createGraphQLError('the request could not be read: its variables and extensions must be JSON objects', {
    extensions: { http: { status: 400 }, code: 'BAD_REQUEST' },
  });
}
