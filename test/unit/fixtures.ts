import { expect } from 'vitest';
import type { RoomEvent, RoomEventBody, UserRef } from '../../src/domain/events.js';
import { ChatError } from '../../src/domain/errors.js';
import type { ErrorCode } from '../../schema/codes.js';
import { toGraphQLError } from '../../schema/errors.js';

/** Hand-built log records for the pure projection and read-model tests (no store involved). */
export const alice: UserRef = { id: 'u-alice', name: 'Alice' };
export const bob: UserRef = { id: 'u-bob', name: 'Bob' };

/** A RoomEvent as read back from the log: the body plus id, seq, position and at. */
export function stored(body: RoomEventBody, seq: number, position = seq, at = 1_700_000_000_000 + seq * 1_000): RoomEvent {
  return { ...body, id: `ev-${body.data.roomId}-${seq}`, seq, position, at } as RoomEvent;
}

export const created = (roomId: string, opts: { name?: string; passwordHash?: string | null; by?: UserRef } = {}): RoomEventBody => ({
  type: 'RoomCreated',
  data: { roomId, name: opts.name ?? `room ${roomId}`, passwordHash: opts.passwordHash ?? null, createdBy: opts.by ?? alice },
});
export const joined = (roomId: string, user: UserRef): RoomEventBody => ({ type: 'MemberJoined', data: { roomId, user } });
export const left = (roomId: string, user: UserRef): RoomEventBody => ({ type: 'MemberLeft', data: { roomId, user } });
export const posted = (roomId: string, messageId: string, body: string, author: UserRef = alice): RoomEventBody => ({
  type: 'MessagePosted',
  data: { roomId, messageId, clientMessageId: `c-${messageId}`, author, body },
});
export const edited = (roomId: string, messageId: string, body: string): RoomEventBody => ({
  type: 'MessageEdited',
  data: { roomId, messageId, body },
});
export const deleted = (roomId: string, messageId: string): RoomEventBody => ({
  type: 'MessageDeleted',
  data: { roomId, messageId },
});

/**
 * Runs `when`, expecting a ChatError that reaches the wire with `code` as its `extensions.code`
 * (through schema/errors.ts, the one mapping) and, if given, a matching message.
 */
export function expectChatError(when: () => unknown, code: ErrorCode, message?: RegExp): ChatError {
  let thrown: unknown;
  try {
    when();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ChatError);
  expect(toGraphQLError(thrown)?.extensions.code).toBe(code);
  if (message) expect((thrown as ChatError).message).toMatch(message);
  return thrown as ChatError;
}
