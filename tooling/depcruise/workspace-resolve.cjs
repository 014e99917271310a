// The resolve section dependency-cruiser reads through its `webpackConfig` option (no webpack involved): one alias
// per entry of every workspace package's `exports` map, pointing at the source file behind it, e.g.
// `@ksef-certs/ksef/crypto` → packages/ksef/src/crypto/index.ts (from ./dist/crypto/index.js). The check then needs no
// build and follows the real graph across packages, while a specifier no exports map lists (a deep
// `@ksef-certs/ksef/dist/...`) stays unresolved and is reported.
const { readFileSync, readdirSync, existsSync } = require("node:fs");
const { join } = require("node:path");

const ROOT = join(__dirname, "..", "..");
// The folders of pnpm-workspace.yaml: each child with a package.json is a workspace package, test/ is one itself.
const WORKSPACE_DIRS = ["packages", "apps", "tooling", "test"];

/**
 * Aliases of every `exports` entry of every workspace package (`name/sub$` → absolute source path; `$` = exact match).
 * An entry whose source file does not exist (not compiled from src/) keeps its published target.
 */
function workspaceAliases(root) {
  const alias = {};
  const dirs = WORKSPACE_DIRS.flatMap((top) => {
    const at = join(root, top);
    if (!existsSync(at)) return [];
    if (existsSync(join(at, "package.json"))) return [at];
    return readdirSync(at).map((name) => join(at, name));
  });
  for (const dir of dirs) {
    const manifestPath = join(dir, "package.json");
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    for (const [key, target] of Object.entries(manifest.exports ?? {})) {
      const file = typeof target === "string" ? target : target.default;
      if (typeof file !== "string") continue;
      const source = file.replace(/^\.\/dist\//, "./src/").replace(/\.js$/, ".ts");
      alias[`${manifest.name}${key === "." ? "" : key.slice(1)}$`] = existsSync(join(dir, source)) ? join(dir, source) : join(dir, file);
    }
  }
  return alias;
}

module.exports = { resolve: { alias: workspaceAliases(ROOT) } };
