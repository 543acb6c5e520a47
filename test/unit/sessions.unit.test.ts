import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createSessions } from '../../src/auth/sessions.js';

const secret = new TextEncoder().encode('s'.repeat(32));
const sessions = createSessions({ secret, ttlSeconds: 3600 });

/** A token as someone holding the secret could sign it by hand. */
function handSigned(options: { exp?: boolean; alg?: string; iss?: string } = {}) {
  let jwt = new SignJWT({ name: 'mallory' })
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setSubject('u_hand')
    .setIssuer(options.iss ?? 'roomlog')
    .setIssuedAt();
  if (options.exp !== false) jwt = jwt.setExpirationTime('1h');
  return jwt.sign(secret);
}

describe('session tokens', () => {
  it('a token create() made is accepted', async () => {
    const session = await sessions.create('ada');
    expect(await sessions.verify(session.token)).toEqual(session.user);
  });

  it('a well-formed hand-signed token with exp is accepted (the control)', async () => {
    expect(await sessions.verify(await handSigned())).toEqual({ id: 'u_hand', name: 'mallory' });
  });

  it('a token without exp is refused: it would never expire', async () => {
    expect(await sessions.verify(await handSigned({ exp: false }))).toBeNull();
  });

  it('another algorithm or issuer is refused', async () => {
    expect(await sessions.verify(await handSigned({ alg: 'HS512' }))).toBeNull();
    expect(await sessions.verify(await handSigned({ iss: 'someone-else' }))).toBeNull();
    const [, payload] = (await handSigned()).split('.');
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    expect(await sessions.verify(unsigned)).toBeNull();
  });

  it('an expired token is refused', async () => {
    const expired = await new SignJWT({ name: 'x' }).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setIssuer('roomlog').setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(secret);
    expect(await sessions.verify(expired)).toBeNull();
  });
});
