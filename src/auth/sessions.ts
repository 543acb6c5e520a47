import { SignJWT } from 'jose';
import type { UserRef } from '../domain/events.js';
import { newUserId } from '../domain/ids.js';
import { hs256Key, verifyHs256 } from './hs256.js';

export interface Session {
  token: string;
  user: UserRef;
  expiresAt: Date;
}

/**
 * Anonymous sessions as signed JWTs (HS256). A token carries a random user id and the display name
 * the user chose: no personal data. Nodes that share traffic must share the secret.
 */
export interface Sessions {
  create(name: string): Promise<Session>;
  /** A fresh session for an existing user (e.g. under a new name): the same id, a new token. */
  issue(user: UserRef): Promise<Session>;
  /** The session's user, or null when the token is malformed, forged or expired. */
  verify(token: string): Promise<UserRef | null>;
}

export function createSessions(options: { secret: Uint8Array; ttlSeconds: number }): Sessions {
  const { secret, ttlSeconds } = options;
  const ISSUER = 'roomlog';
  // Imported once: given the raw bytes, jose imports a WebCrypto key at every signature.
  // (Verification, at every WebSocket connection, is synchronous: hs256.ts.)
  let hmacKey: Promise<CryptoKey> | null = null;
  const verifyKey = hs256Key(secret);
  const key = () => (hmacKey ??= crypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']));
  const issue = async (user: UserRef): Promise<Session> => {
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    const token = await new SignJWT({ name: user.name })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(await key());
    return { token, user, expiresAt };
  };
  return {
    create: (name) => issue({ id: newUserId(), name }),
    issue,
    async verify(token) {
      // Only what create() signs: HS256 (never `none` or another algorithm), our issuer, and an
      // expiry. A token without `exp` would be valid for ever, so it is refused.
      const payload = verifyHs256(token, verifyKey);
      if (!payload || payload.iss !== ISSUER) return null;
      const now = Date.now() / 1000;
      if (typeof payload.exp !== 'number' || payload.exp <= now) return null;
      if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now)) return null;
      if (payload.iat !== undefined && typeof payload.iat !== 'number') return null;
      if (typeof payload.sub !== 'string' || typeof payload.name !== 'string') return null;
      return { id: payload.sub, name: payload.name };
    },
  };
}

/** The token of an `Authorization: Bearer <token>` value, or null. */
export function bearerToken(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match ? match[1]! : null;
}
