/**
 * Builds the web chat when client/web/dist is missing or older than its sources (run before
 * `npm start` and `npm test`); `npm run build:web` builds unconditionally.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '..', '..');
// The client library imports the code table from schema/ (its documents are typed, not built, from the schema).
const sources = [join(here, 'src'), join(here, 'index.html'), join(here, 'vite.config.ts'), join(repo, 'client', 'src'), join(repo, 'schema', 'codes.ts'), join(repo, 'package-lock.json')];

function newest(path: string): number {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const built = statSync(join(here, 'dist', 'index.html'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (built < Math.max(...sources.map(newest))) {
  console.log('building the web chat (client/web → client/web/dist)…');
  // A production build even when run from a test runner (vitest sets NODE_ENV=test, which
  // would give React's development build).
  process.env.NODE_ENV = 'production';
  await build({ configFile: join(here, 'vite.config.ts'), mode: 'production' });
}
