import type { UserRef } from '../domain/events.js';
import { roomIdOfMessage } from '../domain/ids.js';
import { badInput, notFound, payloadTooLarge, unauthenticated } from '../domain/errors.js';

/** Length in Unicode code points, so an emoji counts as one character as a person would count it. */
const charCount = (text: string): number => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

// Control characters other than tab, newline and carriage return have no place in messages.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
// Names are one line, and must not reorder the text around them when shown (bidi overrides).
const NOT_IN_NAMES = /[\t\n\r\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

export function messageBody(body: string, maxChars: number): string {
  if (body.trim() === '') throw badInput('message body must not be empty');
  if (CONTROL.test(body)) throw badInput('message body contains control characters');
  const length = charCount(body);
  if (length > maxChars) throw payloadTooLarge(`message body is ${length} characters; the limit is ${maxChars}`);
  return body;
}

export function displayName(name: string, what: string, maxChars: number): string {
  const trimmed = name.trim();
  if (trimmed === '') throw badInput(`${what} must not be empty`);
  if (CONTROL.test(trimmed) || NOT_IN_NAMES.test(trimmed)) throw badInput(`${what} contains control characters`);
  if (charCount(trimmed) > maxChars) throw badInput(`${what} is longer than ${maxChars} characters`);
  return trimmed;
}

export function password(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (value === '') throw badInput('password must not be empty; leave it out for a public room');
  if (value.length > 200) throw badInput('password is longer than 200 characters');
  return value;
}

export function clientMessageId(value: string): string {
  if (value.length < 1 || value.length > 100) throw badInput('clientMessageId must be 1 to 100 characters');
  return value;
}

export function id(value: string, what: string): string {
  if (value.length < 1 || value.length > 200) throw badInput(`${what} is not a valid id`);
  return value;
}

export function seq(value: number | null | undefined, what: string): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0) throw badInput(`${what} must be a whole number ≥ 0`);
  return value;
}

export function limit(value: number | null | undefined, fallback: number, max: number): number {
  if (value === null || value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw badInput(`limit must be between 1 and ${max}`);
  return value;
}

/** The session's user; every use case but createSession and the public room queries needs one. */
export function viewer(value: UserRef | null): UserRef {
  if (!value) throw unauthenticated();
  return value;
}

/** The room a message id names (message ids carry their room); an id naming none is no message. */
export function messageRoom(messageId: string): string {
  const roomId = roomIdOfMessage(id(messageId, 'messageId'));
  if (!roomId) throw notFound('message');
  return roomId;
}
