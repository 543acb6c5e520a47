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

describe('session tokens: what the verifier refuses besides the claims', () => {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('a changed payload, a changed signature, or a signature in a non-canonical encoding', async () => {
    const [header, payload, signature] = (await handSigned()).split('.') as [string, string, string];
    const other = b64({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'u_other' });
    expect(await sessions.verify(`${header}.${other}.${signature}`)).toBeNull();
    const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);
    expect(await sessions.verify(`${header}.${payload}.${flipped}`)).toBeNull();
    // Buffer's decoder skips characters outside base64url: the same bytes with junk must not pass.
    expect(await sessions.verify(`${header}.${payload}.${signature}*`)).toBeNull();
    expect(await sessions.verify(`${header}.${payload}.${signature}.`)).toBeNull();
    expect(await sessions.verify(`${header}.${payload}`)).toBeNull();
    expect(await sessions.verify('')).toBeNull();
  });

  it('critical header extensions, and a token not valid before a future time', async () => {
    const { createHmac } = await import('node:crypto');
    const claims = b64({ sub: 'u', name: 'x', iss: 'roomlog', exp: Math.floor(Date.now() / 1000) + 60 });
    const signed = (header: unknown) => {
      const head = `${b64(header)}.${claims}`;
      return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
    };
    expect(await sessions.verify(signed({ alg: 'HS256', crit: ['x-ours'], 'x-ours': 1 }))).toBeNull();
    expect(await sessions.verify(signed({ alg: 'HS256', b64: false, crit: ['b64'] }))).toBeNull();
    expect(await sessions.verify(signed({ alg: 'HS256' }))).toEqual({ id: 'u', name: 'x' });
    const later = await new SignJWT({ name: 'x' }).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setIssuer('roomlog').setNotBefore('1h').setExpirationTime('2h').sign(secret);
    expect(await sessions.verify(later)).toBeNull();
  });

  it('a payload that is not a JSON object, even correctly signed', async () => {
    const { createHmac } = await import('node:crypto');
    const sign = (payload: string) => {
      const head = `${b64({ alg: 'HS256' })}.${payload}`;
      return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
    };
    expect(await sessions.verify(sign(Buffer.from('[1,2]').toString('base64url')))).toBeNull();
    expect(await sessions.verify(sign(Buffer.from('not json').toString('base64url')))).toBeNull();
    // The control: the same hand-made signing of a good payload is accepted.
    expect(await sessions.verify(sign(b64({ sub: 'u_ok', name: 'ok', iss: 'roomlog', exp: Math.floor(Date.now() / 1000) + 60 })))).toEqual({ id: 'u_ok', name: 'ok' });
  });
});
