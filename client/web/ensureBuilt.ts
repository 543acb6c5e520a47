/**
 * Builds the web chat when client/web/dist is missing or older than its sources (run before
 * `npm start` and `npm test`); `npm run build:web` builds unconditionally.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { moveBuildInto, withBuildLock } from '../../scripts/buildLock.mjs';

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

const out = join(here, 'dist');
const staging = join(here, 'dist.staging');
const builtAt = () => statSync(join(out, 'index.html'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
const stale = () => builtAt() < Math.max(...sources.map(newest));

if (stale()) {
  // One build at a time (several `npm start &` side by side), checked again once it is our turn;
  // built beside dist/ and moved in with index.html last, so a node serving dist/ never finds it
  // empty: until index.html is replaced it serves the old page, whose hashed assets stay.
  await withBuildLock(join(here, '.dist.lock'), async () => {
    if (!stale()) return;
    console.log('building the web chat (client/web → client/web/dist)…');
    // A production build even when run from a test runner (vitest sets NODE_ENV=test, which
    // would give React's development build).
    process.env.NODE_ENV = 'production';
    rmSync(staging, { recursive: true, force: true });
    await build({ configFile: join(here, 'vite.config.ts'), mode: 'production', build: { outDir: staging, emptyOutDir: true } });
    moveBuildInto(staging, out, 'index.html');
  });
}
