import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * The README starts several nodes side by side with `npm start &`; each prestart may rebuild.
 * A build that emptied dist/ first let a node starting meanwhile fail with "module not found".
 */
describe('builds side by side (npm start & npm start &)', () => {
  it('three server builds at once never leave dist/ without its entry point, and all succeed', async () => {
    const entry = join(root, 'dist', 'src', 'main.js');
    const builds = Promise.all([1, 2, 3].map(() => run(process.execPath, ['scripts/build.mjs'])));
    let missing = 0;
    let looks = 0;
    let done = false;
    void builds.then(() => (done = true));
    while (!done) {
      looks++;
      if (!existsSync(entry)) missing++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const results = await builds;
    expect(results.map((r) => r.code), results.map((r) => r.output).join('\n')).toEqual([0, 0, 0]);
    expect(looks).toBeGreaterThan(10);
    expect(missing).toBe(0);
    expect(existsSync(entry)).toBe(true);
  }, 60_000);
});
