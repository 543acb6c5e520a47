/**
 * The secret file in DATA_DIR (src/auth/jwtSecret.ts): written whole or not at all, 0600, the first
 * writer's secret kept when several nodes share the directory, and a secret too short to sign with
 * refused at start, whether it comes from the file or from JWT_SECRET.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JwtSecretError, loadJwtSecret, MIN_SECRET_BYTES, publishOnce, SECRET_FILE } from '../../src/auth/jwtSecret.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'roomlog-secret-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const file = () => join(dir, SECRET_FILE);

describe('JWT_SECRET', () => {
  it('is used as given when at least 32 bytes', () => {
    const secret = 'k'.repeat(MIN_SECRET_BYTES);
    expect(Buffer.from(loadJwtSecret({ secret, dataDir: dir })).toString()).toBe(secret);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('under 32 bytes is refused, saying how to make one', () => {
    expect(() => loadJwtSecret({ secret: 'k'.repeat(31), dataDir: dir })).toThrow(/31 bytes.*at least 32.*openssl rand/);
  });
});

describe('the generated secret file', () => {
  it('is made once, 0600, 32 random bytes, and read back on the next start', () => {
    const first = loadJwtSecret({ dataDir: dir });
    expect(first).toHaveLength(MIN_SECRET_BYTES);
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    expect(Buffer.from(loadJwtSecret({ dataDir: dir }))).toEqual(Buffer.from(first));
    // Nothing left behind but the file itself.
    expect(readdirSync(dir)).toEqual([SECRET_FILE]);
  });

  it('an older plain secret file (no newline) is still read', () => {
    const secret = Buffer.alloc(MIN_SECRET_BYTES, 7);
    writeFileSync(file(), secret.toString('base64url'));
    expect(Buffer.from(loadJwtSecret({ dataDir: dir }))).toEqual(secret);
  });

  it.each([
    ['empty', ''],
    ['cut short', Buffer.alloc(MIN_SECRET_BYTES, 7).toString('base64url').slice(0, 20)],
  ])('%s (a crash while an older version wrote it) stops the start with a clear message', (_what, content) => {
    writeFileSync(file(), content);
    expect(() => loadJwtSecret({ dataDir: dir })).toThrow(JwtSecretError);
    expect(() => loadJwtSecret({ dataDir: dir })).toThrow(/under the 32 bytes required.*Delete it.*or set JWT_SECRET/);
    // It is not silently replaced: that would end every session.
    expect(readFileSync(file(), 'utf8')).toBe(content);
  });

  it('publishOnce keeps the first writer\'s content and leaves no temporary file', () => {
    expect(publishOnce(file(), 'first\n')).toBe(true);
    expect(publishOnce(file(), 'second\n')).toBe(false);
    expect(readFileSync(file(), 'utf8')).toBe('first\n');
    expect(readdirSync(dir)).toEqual([SECRET_FILE]);
  });

  it('nodes starting together on one DATA_DIR all end up with the same secret', async () => {
    // Separate processes, as nodes are: each generates its own and races to publish it.
    const script = `import { loadJwtSecret } from ${JSON.stringify(new URL('../../src/auth/jwtSecret.ts', import.meta.url).pathname)};
process.stdout.write(Buffer.from(loadJwtSecret({ dataDir: ${JSON.stringify(dir)} })).toString('hex'));`;
    const run = () => promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    const secrets = await Promise.all(Array.from({ length: 6 }, run));
    expect(new Set(secrets.map((s) => s.stdout)).size).toBe(1);
    expect(Buffer.from(secrets[0]!.stdout, 'hex')).toEqual(Buffer.from(readFileSync(file(), 'utf8').trim(), 'base64url'));
    expect(readdirSync(dir)).toEqual([SECRET_FILE]);
  });
});
