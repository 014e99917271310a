import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCertificate } from "@ksef-certs/ksef/crypto";
import { conformanceFixture, runAdapterConformance } from "./conformance.js";
import { pkcs12Adapter } from "./pkcs12.js";

runAdapterConformance(pkcs12Adapter, { keepsKeyBytes: false, keepsMetadata: ["name"] });

describe("pkcs12 specifics", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("writes files OpenSSL 3 reads with AES-256-CBC, PBKDF2 and a SHA-256 MAC", async () => {
    const root = await mkdtemp(join(tmpdir(), "p12-"));
    dirs.push(root);
    const { pairs, password } = await conformanceFixture(1, 1000);
    await pkcs12Adapter.export(pairs, { kind: "folder", path: root }, { password: () => Promise.resolve(password) });
    const [file] = (await readdir(root)).filter((f) => f.endsWith(".p12"));
    expect(file).toBeDefined();
    await writeFile(join(root, "pass"), `${password}\n`);
    const all = execFileSync("sh", ["-c", `openssl pkcs12 -in "${join(root, file ?? "")}" -info -noout -passin "file:${join(root, "pass")}" 2>&1`], {
      encoding: "utf8",
    });
    expect(all).toMatch(/MAC: sha256/);
    expect(all).toMatch(/PBES2, PBKDF2, AES-256-CBC/);
    const pem = execFileSync("openssl", ["pkcs12", "-in", join(root, file ?? ""), "-nokeys", "-passin", `file:${join(root, "pass")}`], { encoding: "utf8" });
    expect(parseCertificate(pem).serialNumber).toBe(pairs[0]?.serialNumber);
  });
});
