/**
 * One build at a time per checkout. The README starts several nodes with `npm start &` side by
 * side, and each one's prestart may find the build stale: unguarded, one build emptied dist/
 * while another node was loading from it (module not found at start). A lock directory (mkdir is
 * atomic) makes the others wait; they then check again and find the build fresh.
 *
 * Plain JavaScript: scripts/build.mjs runs it before anything is compiled.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A lock older than this was left by a build that died: taken over. */
const ABANDONED_MS = 120_000;

export async function withBuildLock(lockDir, task) {
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const since = statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs;
      if (since !== undefined && Date.now() - since > ABANDONED_MS) rmSync(lockDir, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await task();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** Every file below `dir`, relative to it. */
export function filesBelow(dir, prefix = '') {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesBelow(dir, join(prefix, entry.name)) : [join(prefix, entry.name)],
  );
}

/**
 * Moves a build from `staging` into `out` file by file (a rename replaces a file at once), `last`
 * after every other, so a process using `out` never finds it empty or a file half written; then
 * removes `staging`. Returns the files moved.
 */
export function moveBuildInto(staging, out, last) {
  const files = filesBelow(staging).sort((a, b) => Number(a === last) - Number(b === last));
  for (const file of files) {
    mkdirSync(dirname(join(out, file)), { recursive: true });
    renameSync(join(staging, file), join(out, file));
  }
  rmSync(staging, { recursive: true, force: true });
  return files;
}
