import { configDefaults, defineConfig } from 'vitest/config';

// Three tiers, picked by file name (README, "Tests"): unit tests are pure and fast; int tests touch
// real adapters (SQLite files, a redis-server child); e2e tests run real servers, in the test
// process through buildApp (test/support/inProcessNode.ts), or as child processes where a kill,
// a signal or the output is under test. Unit, int and most e2e files run together first (e2e two
// files at a time); then the e2e files listed in ALONE, one at a time with nothing beside them.
/** The e2e files that must run with nothing else running beside them (see the 'e2e-alone' tier). */
const ALONE = [
  'test/cluster/chaos*.e2e.test.ts',
  'test/cluster/sentinelFailover.e2e.test.ts',
  'test/cluster/readModelLoss.e2e.test.ts',
  'test/cluster/throughBalancer.e2e.test.ts',
  'test/cluster/repair.e2e.test.ts',
  'test/abuse/fuzz.e2e.test.ts',
  'test/abuse/passwordGuessing.e2e.test.ts',
  'test/balancer/fairness.e2e.test.ts',
  'test/balancer/protection.e2e.test.ts',
];

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) without an exports map: Node resolves the CJS
    // build for our dependencies (Pothos, Yoga) while Vite would pick the ESM one for our own
    // files, giving two graphql realms ("Cannot use GraphQLScalarType from another realm").
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.unit.test.ts'], maxWorkers: 2, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'int', include: ['test/**/*.int.test.ts'], testTimeout: 30_000, maxWorkers: 2, sequence: { groupOrder: 0 } } },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e.test.ts'],
          exclude: [...configDefaults.exclude, ...ALONE],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Two files at a time on two cores: most of an e2e file's time is spent waiting (for a
          // node to start, a socket to close, a timer), not computing. Runs with the unit and int
          // tiers, before the files that must run alone.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e-alone',
          include: ALONE,
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // These measure time under faults (how long until a failover, a repair, the worst gap
          // between acknowledged sends) or push a node to its limits: each runs with the machine to itself.
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
