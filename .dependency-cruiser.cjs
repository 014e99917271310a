// Import boundaries of the workspace, checked in CI (`npm run depcruise`); `npm run graph` prints the package graph.
//
// Workspace imports (`@ksef-certs/ksef/crypto`) resolve to the source file behind the entry of the package's
// `exports` map (./dist/crypto/index.js → ./src/crypto/index.ts; tooling/depcruise/workspace-resolve.cjs), so the
// check needs no build and sees the real graph across packages. Anything a package does not export (a deep
// `@ksef-certs/x/dist/...` or `/src/...` specifier) stays unresolvable and is reported as a reach-in.
//
// Where a rule says "production code" it leaves out the tests (`*.test.ts`), their fixtures (`__fixtures__/`),
// the test-support modules (`src/testing/`, `src/store/testing.ts`) and the benchmarks (`src/bench/`): those may
// use devDependencies and test helpers of other packages; the package boundaries (who may import whom) and the
// database-free rule still hold for them.
const DATABASE_LIBRARIES = "^(@electric-sql/pglite|postgres|drizzle-orm|drizzle-kit)($|/)";
const NOT_PRODUCTION = [
  "\\.test\\.ts$",
  "/__fixtures__/",
  "/src/testing/",
  "^packages/domain/src/store/testing\\.ts$",
  "/src/bench/",
  "(^|/)vitest\\.config\\.ts$",
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "ksef-is-the-bottom-layer",
      comment: "@ksef-certs/ksef is the pure KSeF layer: it never imports the domain, an app, the simulator or the adapters.",
      severity: "error",
      from: { path: "^packages/ksef/" },
      to: { path: "^(packages/(domain|ksef-simulator|adapters|testing)|apps|test)/" },
    },
    {
      name: "ksef-has-no-database",
      comment: "@ksef-certs/ksef has no database: persistence lives in @ksef-certs/domain.",
      severity: "error",
      from: { path: "^packages/ksef/" },
      to: { path: DATABASE_LIBRARIES },
    },
    {
      name: "domain-below-apps",
      comment: "@ksef-certs/domain never imports an app, the simulator or the adapters (apps → domain → ksef).",
      severity: "error",
      from: { path: "^packages/domain/" },
      to: { path: "^(packages/(ksef-simulator|adapters|testing)|apps|test)/" },
    },
    {
      name: "pure-consumers-without-domain",
      comment: "The signer agent, the simulator and the adapters depend on the pure KSeF layer only, never on the domain or a database.",
      severity: "error",
      from: { path: "^(?:apps/signer-agent|packages/ksef-simulator|packages/adapters)/", pathNot: NOT_PRODUCTION },
      to: { path: ["^packages/domain/", DATABASE_LIBRARIES] },
    },
    {
      name: "pure-consumers-tests-without-database",
      comment:
        "Tests of the signer agent, the simulator and the adapters may drive the domain through its exports (the adapters' conformance suite runs against it), but never a database library directly.",
      severity: "error",
      from: { path: "^(?:apps/signer-agent|packages/ksef-simulator|packages/adapters)/" },
      to: { path: DATABASE_LIBRARIES },
    },
    {
      name: "no-reach-into-another-package",
      comment:
        "A package uses another only through its exports map: never a relative path into another package's folder (its src/ or dist/). Workspace imports resolve through the aliases below, relative ones are 'local'.",
      severity: "error",
      from: { path: "^(packages|apps|tooling)/([^/]+)/" },
      to: { path: "^(packages|apps|tooling)/", pathNot: "^$1/$2/", dependencyTypes: ["local"] },
    },
    {
      name: "test-suites-use-exports",
      comment:
        "The cross-package suites under test/ use the packages through their exports maps only. Looser for tests: the apps export nothing (they are programs), so an end-to-end suite may import an app's module by relative path to run a piece of it in process (the admin's agent API, the agent's local API).",
      severity: "error",
      from: { path: "^test/" },
      to: { path: "^(packages|apps|tooling)/", pathNot: "^apps/[^/]+/src/", dependencyTypes: ["local"] },
    },
    {
      name: "no-deep-workspace-imports",
      comment: "An @ksef-certs/* specifier that is not in the package's exports map (e.g. @ksef-certs/ksef/dist/crypto/index.js).",
      severity: "error",
      from: {},
      to: { path: "^@ksef-certs/", couldNotResolve: true },
    },
    {
      name: "no-workspace-dist",
      comment: "Source code never imports another package's build output.",
      severity: "error",
      from: { path: "^(?:packages|apps|test|tooling)/" },
      to: { path: "^(packages|apps|tooling)/[^/]+/dist/" },
    },
    {
      name: "no-circular",
      comment:
        "No import cycles within a package's production code. A cycle closed only by `import type` is left alone: TypeScript erases it, so nothing runs in a half-initialised module (an adapter's contract and the file helpers share types that way).",
      severity: "error",
      from: { path: "^(?:packages|apps)/[^/]+/", pathNot: NOT_PRODUCTION },
      to: { circular: true, viaOnly: { pathNot: NOT_PRODUCTION, dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "no-dev-dependencies-in-production",
      comment: "Production code imports only the dependencies its package.json lists as dependencies (or peers), never devDependencies.",
      severity: "error",
      from: { path: "^(?:packages|apps)/[^/]+/src/", pathNot: NOT_PRODUCTION },
      to: { dependencyTypes: ["npm-dev"], dependencyTypesNot: ["npm", "npm-peer", "type-only"] },
    },
    {
      name: "no-unresolvable",
      comment: "Every import resolves (a typo or a missing dependency otherwise passes unnoticed here).",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Build output is never cruised, but stays visible as a target so an import of it is reported.
    doNotFollow: { path: ["node_modules", "(^|/)dist/", "(^|/)\\.bench/"] },
    exclude: { path: ["(^|/)\\.cache/", "(^|/)\\.turbo/"] },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
    // Not webpack: a resolve section (aliases) dependency-cruiser hands to its resolver, see the file.
    webpackConfig: { fileName: require("node:path").join(__dirname, "tooling/depcruise/workspace-resolve.cjs") },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
