import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { conformanceFixture, runAdapterConformance } from "./conformance.js";
import { f2000Adapter, parseManifest } from "./f2000.js";

runAdapterConformance(f2000Adapter, { keepsKeyBytes: true, keepsMetadata: ["environment", "scope", "mode", "name"] });

describe("f2000 specifics", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const ctx = { password: () => Promise.resolve("unused") };

  it("lays the pairs out per company, branch and operator, and merges later exports into the manifest", async () => {
    const root = await mkdtemp(join(tmpdir(), "f2000-"));
    dirs.push(root);
    const { pairs } = await conformanceFixture(3, 1000);
    await f2000Adapter.export(pairs.slice(0, 2), { kind: "folder", path: root }, ctx);
    await f2000Adapter.export(pairs.slice(2), { kind: "folder", path: root }, ctx);
    const manifest = parseManifest(await readFile(join(root, "manifest.json")));
    expect(manifest.certificates.map((e) => e.crt.split("/").slice(0, 2).join("/")).sort()).toEqual([
      "5265877635/firma",
      "5265877635/oddzial-WAW",
      "5265877635/operator-44051401458",
    ]);
    const result = await f2000Adapter.import({ kind: "folder", path: root }, ctx);
    expect(result.pairs).toHaveLength(3);
  });

  it("refuses a manifest path that leaves the tree, and an unknown version", async () => {
    const root = await mkdtemp(join(tmpdir(), "f2000-evil-"));
    dirs.push(root);
    const { pairs } = await conformanceFixture(1, 1000);
    await f2000Adapter.export(pairs, { kind: "folder", path: root }, ctx);
    const manifest = JSON.parse(await readFile(join(root, "manifest.json"), "utf8")) as { version: number; certificates: { key: string }[] };
    const evil = { ...manifest, certificates: manifest.certificates.map((c) => ({ ...c, key: "../../etc/passwd" })) };
    await writeFile(join(root, "manifest.json"), JSON.stringify(evil));
    await expect(f2000Adapter.import({ kind: "folder", path: root }, ctx)).rejects.toMatchObject({ code: "FORBIDDEN" });
    await writeFile(join(root, "manifest.json"), JSON.stringify({ ...manifest, version: 2 }));
    await expect(f2000Adapter.import({ kind: "folder", path: root }, ctx)).rejects.toMatchObject({ code: "UNSUPPORTED" });
  });
});
