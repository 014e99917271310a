import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { conformanceFixture, runAdapterConformance } from "./conformance.js";
import { pemPairAdapter } from "./pem-pair.js";

runAdapterConformance(pemPairAdapter, { keepsKeyBytes: true, keepsMetadata: ["name"] });

describe("pem-pair specifics", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const ctx = { password: () => Promise.resolve("unused") };

  it("reads NAME.crt + NAME.key pairs, reports a lonely file and never follows a link out of the folder", async () => {
    const root = await mkdtemp(join(tmpdir(), "pem-pair-"));
    dirs.push(root);
    const outside = await mkdtemp(join(tmpdir(), "pem-outside-"));
    dirs.push(outside);
    const { pairs } = await conformanceFixture(2, 1000);
    await pemPairAdapter.export(pairs, { kind: "folder", path: root }, ctx);
    await writeFile(join(root, "orphan.crt"), "x");
    await writeFile(join(outside, "secret.key"), "outside");
    await symlink(join(outside, "secret.key"), join(root, "stolen.key"));
    await symlink(join(root, "Jan Kowalski 0.crt"), join(root, "alias.crt"));
    await mkdir(join(root, "sub"));
    const result = await pemPairAdapter.import({ kind: "folder", path: root }, ctx);
    expect(result.pairs.map((p) => p.ref).sort()).toEqual(["Jan Kowalski 0", "Jan Kowalski 1"]);
    expect(result.pairs.map((p) => p.metadata.certificateType).sort()).toEqual(["Authentication", "Offline"]);
    const failures = Object.fromEntries(result.failures.map((f) => [f.ref, f.error.code]));
    expect(failures).toEqual({ "stolen.key": "FORBIDDEN", orphan: "NOT_FOUND", alias: "NOT_FOUND" });
  });

  it("refuses an oversize .crt as TOO_LARGE and a missing folder as NOT_FOUND", async () => {
    const root = await mkdtemp(join(tmpdir(), "pem-big-"));
    dirs.push(root);
    await writeFile(join(root, "big.crt"), Buffer.alloc(64 * 1024 + 1, 0x41));
    await writeFile(join(root, "big.key"), "k");
    const result = await pemPairAdapter.import({ kind: "folder", path: root }, ctx);
    expect(result.failures.map((f) => f.error.code)).toEqual(["TOO_LARGE"]);
    await expect(pemPairAdapter.import({ kind: "folder", path: join(root, "nope") }, ctx)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
