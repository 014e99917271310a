/**
 * The import boundaries of .dependency-cruiser.cjs (`npm run depcruise`) hold on the real tree, and each rule still
 * catches the wrong-way import it exists for: a miniature workspace written to a temporary folder makes every
 * forbidden move once (the KSeF layer importing the domain and a database library, the domain importing an app, the
 * signer agent importing the domain, a relative path into another package's src/ and dist/, a deep specifier, a
 * runtime import cycle, a devDependency in production code) and the check must name each of them. Deleting or
 * loosening a rule fails here.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CONFIG = join(ROOT, ".dependency-cruiser.cjs");
const DEPCRUISE = join(ROOT, "node_modules", "dependency-cruiser", "bin", "dependency-cruise.mjs");

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string; readonly severity: string };
  readonly cycle?: readonly { readonly name: string }[];
}

/** Runs dependency-cruiser with the repository's config over `dirs` of `cwd`; returns its exit code and violations. */
function cruise(cwd: string, dirs: readonly string[]): { status: number | null; violations: Violation[] } {
  const r = spawnSync(process.execPath, [DEPCRUISE, "--config", CONFIG, "--output-type", "json", ...dirs], {
    cwd,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  const result = JSON.parse(r.stdout) as { summary: { violations: Violation[] } };
  return { status: r.status, violations: result.summary.violations };
}

/** The miniature workspace: path (relative to its root) → content. */
const WRONG_WAY: Record<string, string> = {
  // The pure KSeF layer reaching into the domain by relative path, and into a database library.
  "packages/ksef/src/up.ts": 'import { y } from "../../domain/src/store/y.js";\nexport const x = y;\n',
  "packages/ksef/src/db.ts": 'import { sql } from "drizzle-orm";\nexport const q = sql;\n',
  // A deep specifier around the exports map.
  "packages/ksef/src/deep.ts": 'import { z } from "@ksef-certs/domain/dist/store/index.js";\nexport const d = z;\n',
  // The domain importing an app.
  "packages/domain/src/store/y.ts": 'import { a } from "../../../../apps/admin/src/a.js";\nexport const y = a;\n',
  "apps/admin/src/a.ts": "export const a = 1;\n",
  // The signer agent importing the domain.
  "apps/signer-agent/src/s.ts": 'import { y } from "../../../packages/domain/src/store/y.js";\nexport const s = y;\n',
  // A test of the adapters opening a database itself.
  "packages/adapters/src/p.test.ts": 'import postgres from "postgres";\nexport const p = postgres;\n',
  // The simulator importing another package's build output.
  "packages/ksef-simulator/src/built.ts": 'import { z } from "../../ksef/dist/z.js";\nexport const b = z;\n',
  "packages/ksef/dist/z.js": "export const z = 1;\n",
  // A runtime import cycle, and a type-only one beside it that is allowed.
  "packages/ksef-simulator/src/c1.ts": 'import { c2 } from "./c2.js";\nexport const c1 = () => c2;\n',
  "packages/ksef-simulator/src/c2.ts": 'import { c1 } from "./c1.js";\nexport const c2 = () => c1;\n',
  "packages/ksef-simulator/src/t1.ts": 'import type { T2 } from "./t2.js";\nexport interface T1 { readonly t2?: T2 }\n',
  "packages/ksef-simulator/src/t2.ts": 'import type { T1 } from "./t1.js";\nexport interface T2 { readonly t1?: T1 }\n',
  // Production code importing a devDependency (a test may).
  "packages/adapters/package.json": JSON.stringify({ name: "@fixture/adapters", devDependencies: { "dev-only": "1.0.0" } }),
  "packages/adapters/node_modules/dev-only/package.json": JSON.stringify({ name: "dev-only", version: "1.0.0", main: "index.js" }),
  "packages/adapters/node_modules/dev-only/index.js": "exports.dev = 1;\n",
  "packages/adapters/src/prod.ts": 'import { dev } from "dev-only";\nexport const prod = dev;\n',
  "packages/adapters/src/prod.test.ts": 'import { dev } from "dev-only";\nexport const ok = dev;\n',
};

let fixture = "";

beforeAll(() => {
  fixture = mkdtempSync(join(tmpdir(), "ksef-certs-depcruise-"));
  for (const [path, content] of Object.entries(WRONG_WAY)) {
    mkdirSync(dirname(join(fixture, path)), { recursive: true });
    writeFileSync(join(fixture, path), content);
  }
});

afterAll(() => {
  if (fixture) rmSync(fixture, { recursive: true, force: true });
});

describe("import boundaries (dependency-cruiser)", () => {
  it("finds no violation in the repository", () => {
    const { status, violations } = cruise(ROOT, ["packages", "apps", "test", "tooling"]);
    expect(status).toBe(0);
    expect(violations).toEqual([]);
  });

  it("reports every wrong-way import of the miniature workspace, and nothing it allows", () => {
    const { violations } = cruise(fixture, ["packages", "apps"]);
    const found = violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
    expect(found).toEqual(
      [
        "ksef-is-the-bottom-layer: packages/ksef/src/up.ts → packages/domain/src/store/y.ts",
        "no-reach-into-another-package: packages/ksef/src/up.ts → packages/domain/src/store/y.ts",
        "ksef-has-no-database: packages/ksef/src/db.ts → drizzle-orm",
        "no-unresolvable: packages/ksef/src/db.ts → drizzle-orm",
        "no-deep-workspace-imports: packages/ksef/src/deep.ts → @ksef-certs/domain/dist/store/index.js",
        "no-unresolvable: packages/ksef/src/deep.ts → @ksef-certs/domain/dist/store/index.js",
        "domain-below-apps: packages/domain/src/store/y.ts → apps/admin/src/a.ts",
        "no-reach-into-another-package: packages/domain/src/store/y.ts → apps/admin/src/a.ts",
        "pure-consumers-without-domain: apps/signer-agent/src/s.ts → packages/domain/src/store/y.ts",
        "no-reach-into-another-package: apps/signer-agent/src/s.ts → packages/domain/src/store/y.ts",
        "pure-consumers-tests-without-database: packages/adapters/src/p.test.ts → postgres",
        "no-unresolvable: packages/adapters/src/p.test.ts → postgres",
        "no-workspace-dist: packages/ksef-simulator/src/built.ts → packages/ksef/dist/z.js",
        "no-reach-into-another-package: packages/ksef-simulator/src/built.ts → packages/ksef/dist/z.js",
        "no-circular: packages/ksef-simulator/src/c1.ts → packages/ksef-simulator/src/c2.ts",
        "no-dev-dependencies-in-production: packages/adapters/src/prod.ts → packages/adapters/node_modules/dev-only/index.js",
      ].sort(),
    );
  });
});
