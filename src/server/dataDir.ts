import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';

/**
 * DATA_DIR holds the whole chat history (events.sqlite) and the key that signs sessions
 * (jwt-secret): nobody but the node's own user should read it. The directory is the real lock
 * (0700: others cannot even reach a file inside); the files are 0600 on top of it, so a copy or a
 * looser directory does not expose them.
 */
const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;
/** The SQLite event store's files (SQLite creates later -wal/-shm files with the database's mode). */
export const DATABASE_FILES = ['events.sqlite', 'events.sqlite-wal', 'events.sqlite-shm'];

/**
 * Creates DATA_DIR as 0700, or tightens an existing one this user owns. A directory owned by
 * someone else, or shared on purpose (sticky bit, as /tmp), is left alone with a warning when
 * others can read it: changing it could break whoever else uses it.
 */
export function prepareDataDir(dir: string, log: Pick<Logger, 'warn'>): void {
  const created = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  const info = statSync(dir);
  const loose = (info.mode & 0o077) !== 0;
  if (!loose) return;
  const ours = typeof process.getuid !== 'function' || info.uid === process.getuid();
  const shared = (info.mode & 0o1000) !== 0;
  if (created !== undefined || (ours && !shared)) {
    try {
      chmodSync(dir, PRIVATE_DIR);
      return;
    } catch (error) {
      log.warn({ err: error, dir }, 'DATA_DIR is readable by other users and could not be made private (chmod 700 it)');
      return;
    }
  }
  log.warn(
    { dir, mode: (info.mode & 0o7777).toString(8) },
    'DATA_DIR is readable by other users and is not this user\'s own directory: left as it is; give the node a private one (chmod 700)',
  );
}

/** Makes the files of the event store in `dir` that exist 0600 (README, "Configuration"). */
export function protectDataFiles(dir: string, log: Pick<Logger, 'warn'>, names: readonly string[] = DATABASE_FILES): void {
  for (const name of names) {
    const file = join(dir, name);
    try {
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, PRIVATE_FILE);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      log.warn({ err: error, file }, 'could not make a data file private (chmod 600 it)');
    }
  }
}
