// The layers of the code, as rules (README, "Architecture"). `npm run lint:layers` checks them and
// `npm test` runs the same check (test/unit/layers.unit.test.ts), so a broken rule fails CI.
// Paths are relative to where depcruise runs: the repository root (or a test fixture's root).

/** Adapter files: everything that talks to a real backend or a process-local stand-in for one. */
const ADAPTER = '(^|/)(memory|sqlite|esdb|redis|postgres)[A-Z][^/]*[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment:
        'The domain (events, decisions, errors) is pure: no adapter, no server, no GraphQL schema, no use case, no I/O library. It imports itself, and the event store port for the shape of a stored event.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { pathNot: ['^src/domain/', '^src/eventStore/eventStore[.]ts$'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'domain-no-node-io',
      comment: 'The domain may use node:crypto for ids, nothing that does I/O.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { dependencyTypes: ['core'], pathNot: ['^crypto$', '^node:crypto$'] },
    },
    {
      name: 'projections-are-folds',
      comment: 'Projections are pure folds of the log: they import the domain and each other, never a server, the schema, an adapter or the running side.',
      severity: 'error',
      from: { path: '^projections/' },
      to: { path: ['^src/(?!domain/)', '^schema/', '^balancer/', '^client/', '^common/'] },
    },
    {
      name: 'use-cases-see-ports-only',
      comment: 'Use cases receive ports; they never import an adapter, the server or the schema.',
      severity: 'error',
      from: { path: '^src/(chat|retention|projector|fanout|commandHandling)/' },
      to: { path: [ADAPTER, '^src/server/', '^schema/(?!codes[.]ts$)'] },
    },
    {
      name: 'balancer-stands-alone',
      comment: 'The balancer is its own program: it shares only common/ with the node.',
      severity: 'error',
      from: { path: '^balancer/' },
      to: { path: ['^src/', '^schema/', '^projections/', '^client/'] },
    },
    {
      name: 'client-stands-alone',
      comment: 'The client library, CLI and web chat ship without the server: they may import the contract (schema/) and common/, nothing of src/.',
      severity: 'error',
      from: { path: '^client/' },
      to: { path: ['^src/', '^projections/', '^balancer/', '^schema/(?!(codes[.]ts|schema[.]graphql)$)'] },
    },
    {
      name: 'common-is-a-leaf',
      comment: 'common/ is shared by the node, the balancer and the client, so it imports none of them.',
      severity: 'error',
      from: { path: '^common/' },
      to: { path: ['^src/', '^schema/', '^projections/', '^balancer/', '^client/'] },
    },
    {
      name: 'schema-codes-is-a-leaf',
      comment: 'The code table is the contract both sides import: it imports nothing of either.',
      severity: 'error',
      from: { path: '^schema/codes[.]ts$' },
      to: { path: '^(src|client|balancer|projections|common)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing is a typo or a file moved without its importers.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-test-code-in-production',
      severity: 'error',
      from: { path: '^(src|schema|projections|balancer|client|common)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    // Sources import `./x.js` for `./x.ts` (NodeNext); with the tsconfig, depcruise resolves them.
    tsConfig: { fileName: 'tsconfig.json' },
    // Packages with subpath exports (graphql-ws/use/ws) resolve only through their exports map.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
