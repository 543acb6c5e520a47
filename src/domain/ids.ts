import { createHash, randomBytes, randomUUID } from 'node:crypto';

/**
 * A UUID derived from its inputs (SHA-256, shaped as an RFC 4122 version 5-style UUID), so the same
 * (room, author, clientMessageId) always yields the same event id. EventStoreDB needs UUID ids.
 */
export function deterministicUuid(...parts: string[]): string {
  const hash = createHash('sha256');
  // UTF-16 code units as they are: UTF-8 would turn every lone surrogate into U+FFFD, making
  // distinct client ids collide.
  for (const part of parts) hash.update(Buffer.from(`${part.length}:${part}`, 'utf16le'));
  const bytes = hash.digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const newEventId = (): string => randomUUID();
export const newUserId = (): string => randomUUID();

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
/** Short, URL-safe room ids: 12 base-36 characters (about 62 bits). */
export function newRoomId(): string {
  const bytes = randomBytes(12);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte % ALPHABET.length];
  return id;
}

/** Message ids carry their room, so edit and delete find the room's stream without a lookup. */
export const messageIdFor = (roomId: string, eventId: string): string => `${roomId}~${eventId}`;
export function roomIdOfMessage(messageId: string): string | null {
  const at = messageId.indexOf('~');
  return at > 0 ? messageId.slice(0, at) : null;
}
export const postEventId = (roomId: string, authorId: string, clientMessageId: string): string =>
  deterministicUuid('MessagePosted', roomId, authorId, clientMessageId);
