/**
 * One build at a time per checkout. The README starts several nodes with `npm start &` side by
 * side, and each one's prestart may find the build stale: unguarded, one build emptied dist/
 * while another node was loading from it (module not found at start). A lock directory (mkdir is
 * atomic) makes the others wait; they then check again and find the build fresh.
 *
 * Plain JavaScript: scripts/build.mjs runs it before anything is compiled.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';

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
