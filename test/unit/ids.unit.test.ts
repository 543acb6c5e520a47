import { describe, expect, it } from 'vitest';
import {
  deterministicUuid,
  messageIdFor,
  newEventId,
  newRoomId,
  postEventId,
  roomIdOfMessage,
} from '../../src/domain/ids.js';

const UUID_V5_SHAPED = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('deterministicUuid', () => {
  it('is stable: the same inputs give the same UUID', () => {
    expect(deterministicUuid('MessagePosted', 'r', 'u', 'c')).toBe(deterministicUuid('MessagePosted', 'r', 'u', 'c'));
  });

  it('is UUID-shaped, version 5 and RFC 4122 variant', () => {
    for (const parts of [[], [''], ['a'], ['x'.repeat(10_000)], ['😀', 'ü', '\n']]) {
      expect(deterministicUuid(...parts)).toMatch(UUID_V5_SHAPED);
    }
  });

  it('different inputs give different UUIDs', () => {
    const ids = new Set(['a', 'b', 'A', 'a ', ' a', ''].map((part) => deterministicUuid(part)));
    expect(ids.size).toBe(6);
  });

  it('the split between parts matters: no ambiguous concatenation', () => {
    expect(deterministicUuid('ab', 'c')).not.toBe(deterministicUuid('a', 'bc'));
    expect(deterministicUuid('abc')).not.toBe(deterministicUuid('ab', 'c'));
    expect(deterministicUuid('a', '')).not.toBe(deterministicUuid('a'));
    expect(deterministicUuid('', 'a')).not.toBe(deterministicUuid('a', ''));
    // A part that looks like the length prefix itself must not collide either.
    expect(deterministicUuid('1:a')).not.toBe(deterministicUuid('a'));
    expect(deterministicUuid('a1:b')).not.toBe(deterministicUuid('a', 'b'));
  });

  it('the order of parts matters', () => {
    expect(deterministicUuid('a', 'b')).not.toBe(deterministicUuid('b', 'a'));
  });
});

describe('postEventId', () => {
  it('tells lone surrogates apart (UTF-8 would turn both into U+FFFD)', () => {
    expect(postEventId('r', 'u', '\uD800')).not.toBe(postEventId('r', 'u', '\uDBFF'));
  });

  it('is deterministic per (room, author, clientMessageId) and differs when any of them does', () => {
    const base = postEventId('r1', 'u1', 'c1');
    expect(postEventId('r1', 'u1', 'c1')).toBe(base);
    expect(base).toMatch(UUID_V5_SHAPED);
    expect(new Set([base, postEventId('r2', 'u1', 'c1'), postEventId('r1', 'u2', 'c1'), postEventId('r1', 'u1', 'c2')]).size).toBe(4);
  });
});

describe('message ids', () => {
  it('round trip: roomIdOfMessage(messageIdFor(room, event)) is the room', () => {
    const eventId = postEventId('abc123', 'u', 'c');
    const messageId = messageIdFor('abc123', eventId);
    expect(messageId).toBe(`abc123~${eventId}`);
    expect(roomIdOfMessage(messageId)).toBe('abc123');
  });

  it('round trips generated room ids', () => {
    for (let i = 0; i < 20; i++) {
      const roomId = newRoomId();
      expect(roomIdOfMessage(messageIdFor(roomId, newEventId()))).toBe(roomId);
    }
  });

  it('a message id without a room part is not a message id', () => {
    expect(roomIdOfMessage('no-separator')).toBeNull();
    expect(roomIdOfMessage('~starts-with-separator')).toBeNull();
    expect(roomIdOfMessage('')).toBeNull();
  });
});

describe('random ids', () => {
  it('newRoomId: 12 base-36 characters, distinct', () => {
    const ids = Array.from({ length: 50 }, newRoomId);
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]{12}$/);
    expect(new Set(ids).size).toBe(50);
  });

  it('newEventId: a UUID, distinct', () => {
    expect(newEventId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newEventId()).not.toBe(newEventId());
  });
});
