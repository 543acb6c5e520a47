/**
 * DATA_DIR and the event store's files are private to the node's user (src/server/dataDir.ts):
 * made 0700 / 0600, an existing directory of ours tightened, one that is not ours left alone.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_FILES, prepareDataDir, protectDataFiles } from '../../src/server/dataDir.js';

let root: string;
const warnings: unknown[][] = [];
const log = { warn: (...args: unknown[]) => void warnings.push(args) } as never;
const mode = (path: string) => statSync(path).mode & 0o7777;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'roomlog-datadir-'));
  warnings.length = 0;
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('prepareDataDir', () => {
  it('creates a missing directory (and its parents) 0700, whatever the umask', () => {
    const previous = process.umask(0o002);
    try {
      prepareDataDir(join(root, 'a', 'data'), log);
    } finally {
      process.umask(previous);
    }
    expect(mode(join(root, 'a', 'data'))).toBe(0o700);
    expect(mode(join(root, 'a'))).toBe(0o700);
    expect(warnings).toEqual([]);
  });

  it('tightens an existing directory of ours', () => {
    const dir = join(root, 'data');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    prepareDataDir(dir, log);
    expect(mode(dir)).toBe(0o700);
  });

  it('leaves a shared directory (sticky bit, as /tmp) as it is, with a warning', () => {
    const dir = join(root, 'shared');
    mkdirSync(dir);
    chmodSync(dir, 0o1777);
    prepareDataDir(dir, log);
    expect(mode(dir)).toBe(0o1777);
    expect(String(warnings[0]?.[1])).toMatch(/readable by other users/);
  });
});

describe('protectDataFiles', () => {
  it('makes the database files that exist 0600, and ignores missing ones', () => {
    const dir = join(root, 'data');
    mkdirSync(dir);
    for (const name of DATABASE_FILES.slice(0, 2)) writeFileSync(join(dir, name), '', { mode: 0o644 });
    protectDataFiles(dir, log);
    for (const name of DATABASE_FILES.slice(0, 2)) expect(mode(join(dir, name))).toBe(0o600);
    expect(warnings).toEqual([]);
  });
});
