import { describe, expect, it } from 'vitest';
import { GraphQLError, buildSchema, execute, parse } from 'graphql';
import { ErrorCodes } from '../../schema/codes.js';
import { ERROR_CODE_OF_KIND, chatErrorOf, toGraphQLError } from '../../schema/errors.js';
import { ChatError, badInput, forbidden, notFound, payloadTooLarge, rateLimited, unauthenticated } from '../../src/domain/errors.js';

/*
 * schema/errors.ts is the one place where a domain error gets its public code: these pin the
 * codes and messages clients see (the e2e error tests check the same on the wire).
 */
describe('ChatError to GraphQL error', () => {
  const cases: Array<[ChatError, string, string]> = [
    [unauthenticated(), 'UNAUTHENTICATED', 'a session is required: call createSession and send its token'],
    [forbidden('join the room before sending to it'), 'FORBIDDEN', 'join the room before sending to it'],
    [notFound('room'), 'NOT_FOUND', 'room not found'],
    [badInput('room already exists'), 'BAD_USER_INPUT', 'room already exists'],
    [payloadTooLarge('body too long'), 'PAYLOAD_TOO_LARGE', 'body too long'],
  ];
  for (const [error, code, message] of cases) {
    it(`${error.kind} → ${code}, same message`, () => {
      const mapped = toGraphQLError(error)!;
      expect(mapped).toBeInstanceOf(GraphQLError);
      expect(mapped.toJSON()).toEqual({ message, extensions: { code } });
      expect(mapped.originalError).toBeUndefined();
    });
  }

  it('a rate limit carries retryAfterMs, rounded up, and says it in seconds', () => {
    expect(toGraphQLError(rateLimited(1_200.4))!.toJSON()).toEqual({
      message: 'too many messages; retry in 2 s',
      extensions: { code: 'RATE_LIMITED', retryAfterMs: 1_201 },
    });
  });

  it('every kind has a code of the public table', () => {
    for (const code of Object.values(ERROR_CODE_OF_KIND)) expect(ErrorCodes).toHaveProperty(code);
  });

  it('a ChatError thrown by a resolver keeps its path and location', async () => {
    const schema = buildSchema('type Query { room: String }');
    const result = await execute({ schema, document: parse('{ room }'), rootValue: { room: () => { throw notFound('room'); } } });
    const located = result.errors![0]!;
    expect(chatErrorOf(located)).toBeInstanceOf(ChatError);
    expect(toGraphQLError(located)!.toJSON()).toEqual({
      message: 'room not found',
      locations: [{ line: 1, column: 3 }],
      path: ['room'],
      extensions: { code: 'NOT_FOUND' },
    });
  });

  it('anything else is not mapped (the edge masks it)', () => {
    expect(toGraphQLError(new Error('driver exploded'))).toBeNull();
    expect(toGraphQLError(new GraphQLError('wrapped', { originalError: new Error('bug') }))).toBeNull();
    expect(toGraphQLError(new GraphQLError('Syntax Error'))).toBeNull();
  });
});
