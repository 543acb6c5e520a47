import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * The layer rules of README's "Architecture" section live in .dependency-cruiser.cjs. This runs
 * them over the real tree (no violation allowed) and over a fixture tree that breaks each kind of
 * rule on purpose (so a rule that silently stopped matching would fail here too).
 */
const root = join(import.meta.dirname, '../..');
const config = join(root, '.dependency-cruiser.cjs');
const depcruise = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const run = promisify(execFile);

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

async function violations(cwd: string, folders: string[]): Promise<Violation[]> {
  // `--output-type json` exits 0 even with violations; the summary lists them.
  const { stdout } = await run(process.execPath, [depcruise, '--config', config, '--output-type', 'json', ...folders], {
    cwd,
    maxBuffer: 64 * 1024 * 1024,
  });
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('layer rules', () => {
  it('the code keeps them', async () => {
    const found = await violations(root, ['src', 'schema', 'projections', 'balancer', 'client', 'common']);
    expect(found.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  }, 60_000);

  it('a deliberate violation of each kind fails the check', async () => {
    const found = await violations(join(root, 'test/fixtures/layers'), ['src', 'balancer', 'client', 'projections']);
    expect(found.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort()).toEqual([
      'balancer-stands-alone: balancer/main.ts → src/server/http.ts',
      'client-stands-alone: client/app.ts → src/domain/pure.ts',
      'domain-is-pure: src/domain/leaky.ts → src/server/http.ts',
      'projections-are-folds: projections/history.ts → src/server/http.ts',
    ]);
  }, 60_000);
});
