/**
 * The errors the chat itself raises, knowing nothing of GraphQL or HTTP: each has a `kind`, and
 * the transport edge (schema/errors.ts) maps every kind to what its protocol says (the public
 * `extensions.code` of a GraphQL error), in one table. Anything that is not a ChatError is a bug
 * or an outage, and the edge masks it.
 */
export type ChatErrorKind = 'unauthenticated' | 'forbidden' | 'not_found' | 'invalid_input' | 'too_large' | 'rate_limited' | 'unavailable';

export abstract class ChatError extends Error {
  abstract readonly kind: ChatErrorKind;
}

/** No session, or a session the server does not accept. */
export class UnauthenticatedError extends ChatError {
  readonly kind = 'unauthenticated';
  constructor(message = 'a session is required: call createSession and send its token') {
    super(message);
    this.name = 'UnauthenticatedError';
  }
}

/** The session may not do this: not a member, not the author, a wrong password. */
export class ForbiddenError extends ChatError {
  readonly kind = 'forbidden';
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/** The room or message does not exist (or, for a trimmed message, no longer does). */
export class NotFoundError extends ChatError {
  readonly kind = 'not_found';
  constructor(readonly what: string) {
    super(`${what} not found`);
    this.name = 'NotFoundError';
  }
}

/** Malformed input, or a command the current state does not allow (a deleted message, say). */
export class InvalidInputError extends ChatError {
  readonly kind = 'invalid_input';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

/** A body, a name or a request over its size limit. */
export class TooLargeError extends ChatError {
  readonly kind = 'too_large';
  constructor(message: string) {
    super(message);
    this.name = 'TooLargeError';
  }
}

/** Over a rate limit: the same call succeeds after `retryAfterMs`. */
export class RateLimitedError extends ChatError {
  readonly kind = 'rate_limited';
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message = `too many messages; retry in ${Math.ceil(retryAfterMs / 1000)} s`) {
    super(message);
    this.name = 'RateLimitedError';
    this.retryAfterMs = Math.ceil(retryAfterMs);
  }
}

/**
 * The answer cannot be given right now without being wrong (e.g. the read models are behind the
 * log while they are rebuilt): the same call is worth trying again after `retryAfterMs`.
 */
export class UnavailableError extends ChatError {
  readonly kind = 'unavailable';
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.name = 'UnavailableError';
    this.retryAfterMs = Math.ceil(retryAfterMs);
  }
}

export const unauthenticated = (message?: string) => new UnauthenticatedError(message);
export const forbidden = (message: string) => new ForbiddenError(message);
export const notFound = (what: string) => new NotFoundError(what);
export const badInput = (message: string) => new InvalidInputError(message);
export const payloadTooLarge = (message: string) => new TooLargeError(message);
export const rateLimited = (retryAfterMs: number) => new RateLimitedError(retryAfterMs);
export const unavailable = (message: string, retryAfterMs: number) => new UnavailableError(message, retryAfterMs);
