// ksef-certs import / export with the adapters, in-process on a scratch data folder: a pem-pair folder
// imported for an operator, exported as an F2000 tree and as a bundle, the bundle imported into a
// second registry, and an all-or-nothing import that leaves the registry unchanged.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pemPairAdapter } from "@ksef-certs/adapters";
import { conformanceFixture } from "@ksef-certs/adapters/conformance";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "./__fixtures__/harness.js";

const NIP = "5265877635";
const PESEL = "44051401458";

describe("ksef-certs import / export --adapter", () => {
  const dir = mkdtempSync(join(tmpdir(), "cli-adapters-"));
  let password = "";
  const cli = async (argv: readonly string[], dataDir = "data") => run([...argv, "--data-dir", join(dir, dataDir)], { cwd: dir });

  beforeAll(async () => {
    const fixture = await conformanceFixture(2, 1000);
    password = fixture.password;
    writeFileSync(join(dir, "pass"), `${password}\n`);
    await pemPairAdapter.export(fixture.pairs, { kind: "folder", path: join(dir, "from-app") }, { password: () => Promise.resolve(password) });
    for (const data of ["data", "data2"]) {
      expect((await cli(["company", "add", "--nip", NIP, "--name", "Hurtownia"], data)).code).toBe(0);
      expect((await cli(["operator", "add", "--company", NIP, "--name", "Jan Kowalski", "--pesel", PESEL], data)).code).toBe(0);
    }
  }, 60_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("imports a pem-pair folder for an operator, exports it as an F2000 tree and as a bundle another registry imports", async () => {
    const imported = await cli([
      "import",
      "--adapter",
      "pem-pair",
      "--from",
      "from-app",
      "--company",
      NIP,
      "--operator-pesel",
      PESEL,
      "--environment",
      "test",
      "--password-file",
      "pass",
      "--json",
    ]);
    expect(imported.code, imported.stderr).toBe(0);
    expect((JSON.parse(imported.stdout) as { imported: unknown[] }).imported).toHaveLength(2);
    const tree = await cli(["export", "--adapter", "f2000", "--to", "tree", "--company", NIP, "--json"]);
    expect(tree.code, tree.stderr).toBe(0);
    expect(readdirSync(join(dir, "tree", NIP))).toEqual([`operator-${PESEL}`]);
    const bundle = await cli(["export", "--adapter", "bundle", "--to", "biuro.p7m", "--company", NIP, "--password-file", "pass", "--json"]);
    expect(bundle.code, bundle.stderr).toBe(0);
    const again = await cli(["import", "--adapter", "bundle", "--from", "biuro.p7m", "--password-file", "pass", "--json"], "data2");
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { imported: { environment: string }[] }).imported.map((i) => i.environment)).toEqual(["test", "test"]);
    expect(imported.stdout + tree.stdout + bundle.stdout + again.stdout + imported.stderr).not.toContain(password);
  }, 120_000);

  it("an all-or-nothing import with a wrong password records nothing (exit 4); --per-pair reports each pair", async () => {
    writeFileSync(join(dir, "wrong"), "Nie-To-Haslo-1!\n");
    const before = await cli(["cert", "list", "--json"], "data2");
    const failed = await cli(
      ["import", "--adapter", "pem-pair", "--from", "from-app", "--company", NIP, "--environment", "demo", "--password-file", "wrong", "--json"],
      "data2",
    );
    expect(failed.code).toBe(4);
    expect((await cli(["cert", "list", "--json"], "data2")).stdout).toBe(before.stdout);
    const perPair = await cli(
      ["import", "--adapter", "pem-pair", "--from", "from-app", "--company", NIP, "--environment", "demo", "--password-file", "wrong", "--per-pair", "--json"],
      "data2",
    );
    expect((JSON.parse(perPair.stdout) as { failed: { error: { code: string } }[] }).failed.map((f) => f.error.code)).toEqual([
      "WRONG_PASSWORD",
      "WRONG_PASSWORD",
    ]);
  }, 120_000);
});
