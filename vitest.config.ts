import { defineConfig } from 'vitest/config';

// Three tiers, picked by file name (README, "Tests"): unit tests are pure and fast; int tests touch
// real adapters (SQLite files, a redis-server child); e2e tests run real servers, in the test
// process through buildApp (test/support/inProcessNode.ts), or as child processes where a kill,
// a signal or the output is under test.
export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) without an exports map: Node resolves the CJS
    // build for our dependencies (Pothos, Yoga) while Vite would pick the ESM one for our own
    // files, giving two graphql realms ("Cannot use GraphQLScalarType from another realm").
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.unit.test.ts'] } },
      { extends: true, test: { name: 'int', include: ['test/**/*.int.test.ts'], testTimeout: 30_000 } },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Each e2e file starts its own server processes; two cores, so run files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
