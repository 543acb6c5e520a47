import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { RateLimitedError } from '../domain/errors.js';
import { GateFullError, createGate } from '../limits/gate.js';

// scrypt with N=2^14, r=8, p=1: about 16 MiB and a few tens of ms per check, the common interactive
// setting. The parameters travel with the hash so they can be raised later without breaking rooms.
const PARAMS = { N: 16_384, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$salt$key` (base64url parts). The password itself is never stored or logged. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(N), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export interface Passwords {
  hash(password: string): Promise<string>;
  /** `beforeCheck` runs once the check has its turn, right before the hash is computed; it may refuse. */
  verify(password: string, stored: string, beforeCheck?: () => Promise<void>): Promise<boolean>;
}

/**
 * Hashing and checking with bounded concurrency. Node's async scrypt already runs on the libuv
 * thread pool, off the event loop, but that pool is small (4 threads) and shared with file and
 * DNS work, and each check holds 16 MiB: a flood of checks must neither take the whole pool nor
 * queue without end. At most `concurrency` run at once, `maxQueued` wait; past that a check is
 * refused at once as RATE_LIMITED (retry in a second).
 */
export function createPasswords(options: { concurrency: number; maxQueued: number }): Passwords {
  const gate = createGate(options);
  const bounded = <T>(task: () => Promise<T>): Promise<T> =>
    gate.run(task).catch((error: unknown) => {
      if (error instanceof GateFullError) throw new RateLimitedError(1_000, 'too many password checks at once; retry in 1 s');
      throw error;
    });
  return {
    hash: (password) => bounded(() => hashPassword(password)),
    verify: (password, stored, beforeCheck) =>
      bounded(async () => {
        await beforeCheck?.();
        return verifyPassword(password, stored);
      }),
  };
}
