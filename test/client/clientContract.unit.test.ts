/**
 * The client's contract with the schema: its documents are typed from client/src/graphql-env.d.ts,
 * which gql.tada generates from schema/schema.graphql. While that file is current, a schema change
 * that breaks a client document breaks `npm run typecheck`; these tests keep it current.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildSchema, isAbstractType, visit } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ROOM_EVENTS } from '../../client/src/operations.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The CLI that `npm run client:types` runs, from the installed gql.tada.
const tadaCli = join(dirname(createRequire(import.meta.url).resolve('gql.tada/package.json')), 'bin', 'cli.js');

describe('the client contract', () => {
  it('client/src/graphql-env.d.ts is up to date with schema/schema.graphql (run `npm run client:types`)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'client-types-'));
    try {
      const fresh = join(dir, 'graphql-env.d.ts');
      await promisify(execFile)(process.execPath, [tadaCli, 'generate-output', '--tsconfig', join(root, 'client/tsconfig.json'), '--output', fresh], { cwd: root });
      expect(await readFile(join(root, 'client/src/graphql-env.d.ts'), 'utf8')).toBe(await readFile(fresh, 'utf8'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("the roomEvents subscription selects every RoomEvent type the schema has (a new one would arrive with no fields)", async () => {
    const schema = buildSchema(await readFile(join(root, 'schema/schema.graphql'), 'utf8'));
    const roomEvent = schema.getType('RoomEvent');
    if (!roomEvent || !isAbstractType(roomEvent)) throw new Error('RoomEvent is not an interface in the schema');
    const selected = new Set<string>();
    visit(ROOM_EVENTS, { InlineFragment: (node) => void (node.typeCondition && selected.add(node.typeCondition.name.value)) });
    expect([...selected].sort()).toEqual(schema.getPossibleTypes(roomEvent).map((type) => type.name).sort());
  });
});
