import { randomBytes, timingSafeEqual } from 'node:crypto';
import { RateLimitedError } from '../domain/errors.js';
import { GateFullError, createGate } from '../limits/gate.js';
import { createScryptThreads, type ScryptParams, type ScryptThreads } from './scryptThreads.js';

// scrypt with N=2^14, r=8, p=1: about 16 MiB and a few tens of ms per check, the common interactive
// setting. The parameters travel with the hash so they can be raised later without breaking rooms.
const PARAMS = { N: 16_384, r: 8, p: 1 };
const KEY_LENGTH = 32;

/** `scrypt$N$r$p$salt$key` (base64url parts). The password itself is never stored or logged. */
async function hashPassword(threads: ScryptThreads, password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await threads.derive(password.normalize('NFKC'), salt, KEY_LENGTH, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

async function verifyPassword(threads: ScryptThreads, password: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const params: ScryptParams = { N: Number(N), r: Number(r), p: Number(p) };
  const expected = Buffer.from(key, 'base64url');
  const actual = await threads.derive(password.normalize('NFKC'), Buffer.from(salt, 'base64url'), expected.length || KEY_LENGTH, params);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export interface Passwords {
  hash(password: string): Promise<string>;
  /** `beforeCheck` runs once the check has its turn, right before the hash is computed; it may refuse. */
  verify(password: string, stored: string, beforeCheck?: () => Promise<void>): Promise<boolean>;
  /** Stops the checking threads (checks after this fail). */
  close(): Promise<void>;
}

/**
 * Hashing and checking with bounded concurrency, off the event loop on threads of the lowest CPU
 * priority (scryptThreads.ts). Each check holds 16 MiB and tens of ms of CPU: a flood of checks
 * must neither take the CPU from message delivery nor queue without end. At most `concurrency`
 * run at once (one thread each), `maxQueued` wait; past that a check is refused at once as
 * RATE_LIMITED (retry in a second).
 */
export function createPasswords(options: { concurrency: number; maxQueued: number }): Passwords {
  const gate = createGate(options);
  const threads = createScryptThreads(options.concurrency);
  const bounded = <T>(task: () => Promise<T>): Promise<T> =>
    gate.run(task).catch((error: unknown) => {
      if (error instanceof GateFullError) throw new RateLimitedError(1_000, 'too many password checks at once; retry in 1 s');
      throw error;
    });
  return {
    hash: (password) => bounded(() => hashPassword(threads, password)),
    verify: (password, stored, beforeCheck) =>
      bounded(async () => {
        await beforeCheck?.();
        return verifyPassword(threads, password, stored);
      }),
    close: () => threads.close(),
  };
}
