import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSecretText, encodeSecretFile, JwtSecretError, publishOnce, readSecretFile, replaceFile, SECRET_FILE } from '../auth/jwtSecret.js';
import { configFrom, type StoreOptions } from './context.js';

/**
 * The key sessions are signed with lives in DATA_DIR (src/auth/jwtSecret.ts), not in the log, so
 * `export`/`import` do not carry it: after a move without it every session is refused and users
 * lose their memberships. `secret show` on the old data and `secret set` on the new carry it.
 */
export function showSecret(options: Pick<StoreOptions, 'dataDir'>): string {
  const { DATA_DIR, JWT_SECRET } = configFrom(options);
  const file = join(DATA_DIR, SECRET_FILE);
  const secret = readSecretFile(file);
  if (!secret) {
    throw new JwtSecretError(
      JWT_SECRET !== undefined
        ? `no ${file}: the nodes sign with JWT_SECRET; give the new nodes the same JWT_SECRET`
        : `no ${file}: no node has generated a secret in this DATA_DIR yet (or it runs with JWT_SECRET)`,
    );
  }
  return encodeSecretFile(secret);
}

/**
 * Writes `text` (what `secret show` printed) as DATA_DIR's secret. Refuses to replace a different
 * one unless `replace`: every session signed with the old one would end. Setting the same one again
 * is fine (so a move can be repeated).
 */
export function setSecret(options: Pick<StoreOptions, 'dataDir'> & { text: string; replace?: boolean }): 'written' | 'unchanged' | 'replaced' {
  const { DATA_DIR } = configFrom(options);
  const secret = decodeSecretText(options.text);
  const content = encodeSecretFile(secret);
  mkdirSync(DATA_DIR, { recursive: true, mode: 0o700 });
  const file = join(DATA_DIR, SECRET_FILE);
  if (publishOnce(file, content)) return 'written';
  const existing = readSecretFile(file);
  if (existing && Buffer.from(existing).equals(Buffer.from(secret))) return 'unchanged';
  if (!options.replace) {
    throw new JwtSecretError(`${file} already holds another secret; --replace to overwrite it (every session signed with it then ends; stop the nodes first)`);
  }
  replaceFile(file, content);
  return 'replaced';
}
