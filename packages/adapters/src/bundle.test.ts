import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { sealWithPassword } from "@ksef-certs/ksef/crypto";
import tar from "tar-stream";
import { createBundleAdapter } from "./bundle.js";
import { conformanceFixture, runAdapterConformance } from "./conformance.js";

// Fewer PBKDF2 iterations than the default 600 000 keep the suite fast; the format is the same.
const bundle = createBundleAdapter({ iterations: 10_000 });
runAdapterConformance(bundle, { keepsKeyBytes: true, keepsMetadata: ["environment", "scope", "mode", "name"] });

async function tarOf(entries: { name: string; type?: "file" | "symlink"; body?: string; linkname?: string }[]): Promise<Uint8Array> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((r) =>
    pack.on("end", () => {
      r();
    }),
  );
  for (const e of entries) pack.entry({ name: e.name, type: e.type ?? "file", ...(e.linkname === undefined ? {} : { linkname: e.linkname }) }, e.body ?? "");
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

describe("bundle specifics", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("opens with openssl cms -decrypt -pwri_password and holds the F2000 tree", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bundle-"));
    dirs.push(dir);
    const { pairs, password } = await conformanceFixture(2, 1000);
    const file = join(dir, "biuro.p7m");
    await bundle.export(pairs, { kind: "file", path: file }, { password: () => Promise.resolve(password) });
    const archive = execFileSync("openssl", ["cms", "-decrypt", "-binary", "-inform", "DER", "-in", file, "-pwri_password", password]);
    await writeFile(join(dir, "out.tar"), archive);
    const names = execFileSync("tar", ["-tf", join(dir, "out.tar")], { encoding: "utf8" })
      .trim()
      .split("\n")
      .sort();
    expect(names[0]).toBe("5265877635/firma/test-Authentication-" + (pairs[0]?.serialNumber ?? "") + ".crt");
    expect(names).toContain("manifest.json");
    expect(names).toHaveLength(5);
  });

  it("refuses traversal and link entries in the archive", async () => {
    const password = "Haslo-Biura-2026!";
    for (const entries of [[{ name: "../evil.crt", body: "x" }], [{ name: "manifest.json", type: "symlink" as const, linkname: "/etc/passwd" }]]) {
      const sealed = await sealWithPassword(await tarOf(entries), password, { iterations: 1000 });
      await expect(bundle.import({ kind: "stream", stream: Readable.from([sealed]) }, { password: () => Promise.resolve(password) })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
    }
  });

  it("reads a bundle made by openssl cms -encrypt -pwri_password", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bundle-openssl-"));
    dirs.push(dir);
    const { pairs, password } = await conformanceFixture(1, 1000);
    const ours = join(dir, "ours.p7m");
    await bundle.export(pairs, { kind: "file", path: ours }, { password: () => Promise.resolve(password) });
    await writeFile(join(dir, "plain.tar"), execFileSync("openssl", ["cms", "-decrypt", "-binary", "-inform", "DER", "-in", ours, "-pwri_password", password]));
    execFileSync("openssl", [
      "cms",
      "-encrypt",
      "-binary",
      "-aes256",
      "-outform",
      "DER",
      "-in",
      join(dir, "plain.tar"),
      "-out",
      join(dir, "theirs.p7m"),
      "-pwri_password",
      password,
    ]);
    const result = await bundle.import(
      {
        kind: "stream",
        stream: (async function* () {
          yield await readFile(join(dir, "theirs.p7m"));
        })(),
      },
      { password: () => Promise.resolve(password) },
    );
    expect(result.pairs.map((p) => p.metadata.name)).toEqual(["Jan Kowalski 0"]);
  });
});
