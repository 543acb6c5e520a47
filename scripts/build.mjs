#!/usr/bin/env node
/**
 * Compiles the server's TypeScript into dist/ (same layout: src/main.ts → dist/src/main.js), so
 * production runs plain `node dist/src/main.js` with no transpiler loaded. Each file is
 * transpiled on its own by esbuild (no bundling, no type check: `npm run typecheck` does that),
 * which takes well under a second.
 *
 *   node scripts/build.mjs            build
 *   node scripts/build.mjs --if-stale build only if a source is newer than the last build (npm prestart)
 *
 * Plain JavaScript on purpose: it runs before anything is compiled, without tsx. Development runs
 * the sources instead (`npm run dev`: tsx, restarting on every change).
 */
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filesBelow, moveBuildInto, withBuildLock } from './buildLock.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist');
/** Everything a node, the CLI or the balancer loads at run time (tests and the clients are not shipped). */
const DIRS = ['src', 'schema', 'projections', 'common', 'balancer'];
const STAMP = join(out, '.built');
const LOCK = join(root, '.dist.lock');

function walk(dir, files = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, files);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !entry.name.includes('.test.')) files.push(path);
  }
  return files;
}

function sources() {
  return DIRS.flatMap((dir) => walk(join(root, dir)));
}

/** Newest source (or the lockfile, or this script) vs the stamp the last build wrote. */
function stale(files) {
  const built = statSync(STAMP, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const inputs = [...files, join(root, 'package-lock.json'), fileURLToPath(import.meta.url)];
  // A deleted source leaves its output behind: count the directories' own mtimes too.
  const dirs = DIRS.flatMap(function dirsOf(dir) {
    const path = join(root, dir);
    return [path, ...readdirSync(path, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => dirsOf(join(dir, e.name)))];
  });
  return [...inputs, ...dirs].some((path) => (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) > built);
}

async function loadEsbuild() {
  try {
    return await import('esbuild');
  } catch {
    console.error('dist/ is missing or older than the sources, and esbuild (a dev dependency) is not installed: run `npm install` (with dev dependencies) and `npm run build`.');
    process.exit(1);
  }
}

const options = (files, outdir) => ({
  entryPoints: files,
  outdir,
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Source maps beside the files, for `node --enable-source-maps` when a stack trace should point at TypeScript.
  sourcemap: 'linked',
  logLevel: 'warning',
});

/**
 * Built beside dist/, then moved in file by file (a rename replaces a file at once), so a node
 * running from dist/ never sees it empty or a file half written. Outputs of deleted sources go.
 */
async function build() {
  const started = performance.now();
  const esbuild = await loadEsbuild();
  const files = sources();
  const staging = `${out}.staging`;
  rmSync(staging, { recursive: true, force: true });
  await esbuild.build(options(files, staging));
  const kept = new Set([...moveBuildInto(staging, out), '.built']);
  for (const file of filesBelow(out)) if (!kept.has(file)) rmSync(join(out, file));
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  console.log(`built ${files.length} files into ${relative(process.cwd(), out) || out} in ${Math.round(performance.now() - started)} ms`);
}

const needed = () => !existsSync(STAMP) || stale(sources());
const args = new Set(process.argv.slice(2));
// Checked again under the lock: a build that ran while this one waited may have made it fresh.
if (!args.has('--if-stale') || needed()) await withBuildLock(LOCK, async () => (!args.has('--if-stale') || needed() ? build() : undefined));
