import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** A key to verify with: its bytes are imported once, not at every token. */
export type Hs256Key = KeyObject;

export function hs256Key(secret: Uint8Array): Hs256Key {
  return createSecretKey(secret);
}

/**
 * Verifies a compact JWS signed with HS256 (what Sessions signs), synchronously with node:crypto,
 * and returns its payload, or null for anything else: a header other than `alg: HS256` (`none`,
 * another algorithm, critical extensions, an unencoded payload), a wrong or non-canonically
 * encoded signature, segments that are not base64url JSON objects.
 *
 * Why not jose's jwtVerify, which signs: its HMAC goes through WebCrypto, an asynchronous job on
 * the thread pool costing about 100 µs a token; a node verifies a token at every WebSocket
 * connection, and that was the largest single part of accepting one. The claims (issuer, expiry)
 * are checked by the caller (sessions.ts), on what this returns.
 */
export function verifyHs256(token: string, key: Hs256Key): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  // An HS256 MAC is 32 bytes: 43 base64url characters, unpadded. Anything else is not one.
  if (encodedSignature.length !== 43 || !acceptedHeader(encodedHeader)) return null;
  // The signature's text must be exactly the canonical base64url of the expected MAC: comparing
  // the texts refuses a wrong MAC and an encoding Buffer's lenient decoder would have accepted.
  const expected = Buffer.from(createHmac('sha256', key).update(`${encodedHeader}.${encodedPayload}`).digest('base64url'));
  const given = Buffer.from(encodedSignature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return segment(encodedPayload);
}

/** The last header text accepted: every token a node signs carries the same one. */
let lastAcceptedHeader = '';

function acceptedHeader(encoded: string): boolean {
  if (encoded === lastAcceptedHeader) return true;
  const header = segment(encoded);
  if (!header || header.alg !== 'HS256' || 'crit' in header || 'b64' in header) return false;
  lastAcceptedHeader = encoded;
  return true;
}

/** base64url that decodes and encodes back to itself (Buffer's decoder skips characters it does not know). */
function canonical(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

function segment(text: string): Record<string, unknown> | null {
  const bytes = canonical(text);
  if (!bytes) return null;
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
