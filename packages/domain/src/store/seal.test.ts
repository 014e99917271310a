import { randomBytes } from "node:crypto";
import { chmod, chown, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { MASTER_KEY_BYTES, SEAL_OVERHEAD_BYTES, parseMasterKeyText, seal, unseal } from "@ksef-certs/ksef/crypto";
import { createMasterKeyFile, loadMasterKey } from "./seal.js";

const key = new Uint8Array(randomBytes(32));
const otherKey = new Uint8Array(randomBytes(32));
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    if (err instanceof KsefCertsError) return err.code;
    throw err;
  }
  return undefined;
}

describe("seal / unseal", () => {
  it("round-trips strings and bytes, with the documented layout and a fresh nonce each time", () => {
    const a = seal(key, "Tajne-Hasło-1!", "certificate:c1:password");
    const b = seal(key, "Tajne-Hasło-1!", "certificate:c1:password");
    expect(a[0]).toBe(1);
    expect(a.byteLength).toBe(Buffer.byteLength("Tajne-Hasło-1!", "utf8") + SEAL_OVERHEAD_BYTES);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(a).includes(Buffer.from("Tajne"))).toBe(false);
    expect(text(unseal(key, a, "certificate:c1:password"))).toBe("Tajne-Hasło-1!");
    const bin = new Uint8Array(randomBytes(300));
    expect(Buffer.from(unseal(key, seal(key, bin, "enrollment:e1:session"), "enrollment:e1:session")).equals(Buffer.from(bin))).toBe(true);
    expect(unseal(key, seal(key, "", "x"), "x").byteLength).toBe(0);
  });

  it("matches the documented layout: plain AES-256-GCM over nonce, ciphertext and tag, with the version byte in the AAD", async () => {
    const { createDecipheriv } = await import("node:crypto");
    const s = seal(key, "abc", "row:1");
    const d = createDecipheriv("aes-256-gcm", key, s.subarray(1, 13));
    d.setAAD(Buffer.concat([Buffer.from([1]), Buffer.from("row:1")]));
    d.setAuthTag(s.subarray(s.byteLength - 16));
    expect(Buffer.concat([d.update(s.subarray(13, s.byteLength - 16)), d.final()]).toString()).toBe("abc");
  });

  it("refuses another master key, another row's aad, and any flipped byte", async () => {
    const s = seal(key, "Tajne-Hasło-1!", "certificate:c1:password");
    expect(await codeOf(() => unseal(otherKey, s, "certificate:c1:password"))).toBe("FORBIDDEN");
    // A blob copied from row c1 onto row c2 must not open there.
    expect(await codeOf(() => unseal(key, s, "certificate:c2:password"))).toBe("FORBIDDEN");
    for (let i = 1; i < s.byteLength; i++) {
      const bad = new Uint8Array(s);
      bad[i] = (bad[i] ?? 0) ^ 0x01;
      expect(await codeOf(() => unseal(key, bad, "certificate:c1:password")), `byte ${i}`).toBe("FORBIDDEN");
    }
    const badVersion = new Uint8Array(s);
    badVersion[0] = 2;
    expect(await codeOf(() => unseal(key, badVersion, "certificate:c1:password"))).toBe("UNSUPPORTED");
    expect(await codeOf(() => unseal(key, s.subarray(0, 28), "certificate:c1:password"))).toBe("MALFORMED");
    expect(() => unseal(otherKey, s, "certificate:c1:password")).toThrow(/sealed with another master key, belongs to another record, or is damaged/);
  });

  it("checks key length, aad and size limits", async () => {
    expect(await codeOf(() => seal(key.subarray(0, 16), "x", "a"))).toBe("VALIDATION");
    expect(await codeOf(() => seal(key, "x", ""))).toBe("VALIDATION");
    expect(await codeOf(() => seal(key, new Uint8Array(1024 * 1024 + 1), "a"))).toBe("TOO_LARGE");
    expect(seal(key, new Uint8Array(1024 * 1024), "a").byteLength).toBe(1024 * 1024 + SEAL_OVERHEAD_BYTES);
  });
});

describe("master key", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ksef-certs-seal-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("parses hex, base64 and base64url of exactly 32 bytes, and names only the length when wrong", async () => {
    const raw = Buffer.from(key);
    expect(Buffer.from(parseMasterKeyText(raw.toString("hex"))).equals(raw)).toBe(true);
    expect(Buffer.from(parseMasterKeyText(raw.toString("hex").toUpperCase())).equals(raw)).toBe(true);
    expect(Buffer.from(parseMasterKeyText(` ${raw.toString("base64")}\n`)).equals(raw)).toBe(true);
    expect(Buffer.from(parseMasterKeyText(raw.toString("base64url"))).equals(raw)).toBe(true);
    for (const bad of [raw.subarray(0, 31).toString("hex"), randomBytes(33).toString("base64"), randomBytes(16).toString("base64"), "z".repeat(64), ""]) {
      expect(await codeOf(() => parseMasterKeyText(bad)), bad).toBe("VALIDATION");
    }
    const secretish = `${raw.toString("hex")}00`;
    try {
      parseMasterKeyText(secretish, "KSEF_CERTS_MASTER_KEY");
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toContain("KSEF_CERTS_MASTER_KEY");
      expect((err as Error).message).toContain("66 characters");
      expect((err as Error).message).not.toContain(secretish);
    }
  });

  it("loads from the environment first, then the named file, then <dataDir>/master.key, else undefined", async () => {
    const dataDir = join(dir, "data-a");
    expect(await loadMasterKey({ env: {}, dataDir })).toBeUndefined();
    expect(await loadMasterKey({ env: {}, dataDir: ":memory:" })).toBeUndefined();
    const fromEnv = await loadMasterKey({ env: { KSEF_CERTS_MASTER_KEY: Buffer.from(key).toString("base64") }, dataDir });
    expect(Buffer.from(fromEnv ?? []).equals(Buffer.from(key))).toBe(true);

    const created = await createMasterKeyFile(join(dataDir, "master.key"));
    expect(created.byteLength).toBe(MASTER_KEY_BYTES);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dataDir, "master.key"))).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await loadMasterKey({ env: {}, dataDir })) ?? []).equals(Buffer.from(created))).toBe(true);
    // KSEF_CERTS_DATA_DIR is how the default file is found when no dataDir is given.
    expect(Buffer.from((await loadMasterKey({ env: { KSEF_CERTS_DATA_DIR: dataDir } })) ?? []).equals(Buffer.from(created))).toBe(true);

    const named = join(dir, "named.key");
    await writeFile(named, `${Buffer.from(otherKey).toString("hex")}\n`, { mode: 0o400 });
    expect(Buffer.from((await loadMasterKey({ env: { KSEF_CERTS_MASTER_KEY_FILE: named }, dataDir })) ?? []).equals(Buffer.from(otherKey))).toBe(true);
    expect(await codeOf(loadMasterKey({ env: { KSEF_CERTS_MASTER_KEY_FILE: join(dir, "missing.key") }, dataDir }))).toBe("NOT_FOUND");
    expect(await codeOf(loadMasterKey({ env: { KSEF_CERTS_MASTER_KEY_FILE: named, KSEF_CERTS_MASTER_KEY: Buffer.from(key).toString("hex") } }))).toBe(
      "VALIDATION",
    );
    expect(await codeOf(loadMasterKey({ env: { KSEF_CERTS_MASTER_KEY: "short" }, dataDir }))).toBe("VALIDATION");
  });

  it("refuses a key file group or others can read (0644, 0640), accepts 0600 and 0400, skips the check on Windows", async () => {
    const file = join(dir, "mode.key");
    await writeFile(file, randomBytes(32), { mode: 0o600 });
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      await chmod(file, mode);
      const err = await loadMasterKey({ env: { KSEF_CERTS_MASTER_KEY_FILE: file } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KsefCertsError);
      expect((err as KsefCertsError).code).toBe("FORBIDDEN");
      expect((err as KsefCertsError).message).toContain(mode.toString(8).padStart(4, "0"));
      expect((err as KsefCertsError).hint).toBe(`Restrict it to its owner: chmod 600 ${file}`);
    }
    await chmod(file, 0o644);
    expect((await loadMasterKey({ env: { KSEF_CERTS_MASTER_KEY_FILE: file }, platform: "win32" }))?.byteLength).toBe(32);
    for (const mode of [0o600, 0o400]) {
      await chmod(file, mode);
      expect((await loadMasterKey({ env: { KSEF_CERTS_MASTER_KEY_FILE: file } }))?.byteLength).toBe(32);
    }
  });

  // Only root can give a file to another user; as any other user this case cannot be set up.
  it.runIf(process.getuid?.() === 0)("refuses a key file owned by another user", async () => {
    const file = join(dir, "owned.key");
    await writeFile(file, randomBytes(32), { mode: 0o600 });
    await chown(file, 12345, 12345);
    const err = await loadMasterKey({ env: { KSEF_CERTS_MASTER_KEY_FILE: file } }).catch((e: unknown) => e);
    expect((err as KsefCertsError).code).toBe("FORBIDDEN");
    expect((err as KsefCertsError).message).toContain("uid 12345");
    await chown(file, 0, 0);
    expect((await loadMasterKey({ env: { KSEF_CERTS_MASTER_KEY_FILE: file } }))?.byteLength).toBe(32);
  });

  it("refuses a key file of the wrong size or content", async () => {
    const file = join(dir, "bad.key");
    await writeFile(file, randomBytes(31), { mode: 0o600 });
    expect(await codeOf(loadMasterKey({ env: { KSEF_CERTS_MASTER_KEY_FILE: file } }))).toBe("VALIDATION");
    await writeFile(file, randomBytes(2000), { mode: 0o600 });
    expect(await codeOf(loadMasterKey({ env: { KSEF_CERTS_MASTER_KEY_FILE: file } }))).toBe("TOO_LARGE");
  });

  it("createMasterKeyFile never overwrites and leaves no temporary files", async () => {
    const sub = join(dir, "create");
    const path = join(sub, "master.key");
    const first = await createMasterKeyFile(path);
    expect(await codeOf(createMasterKeyFile(path))).toBe("CONFLICT");
    expect(Buffer.from(await readFile(path)).equals(Buffer.from(first))).toBe(true);
    // Two concurrent creators: exactly one wins.
    const racePath = join(sub, "race.key");
    const results = await Promise.allSettled([createMasterKeyFile(racePath), createMasterKeyFile(racePath)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const lost = results.find((r) => r.status === "rejected");
    expect(((lost as PromiseRejectedResult).reason as KsefCertsError).code).toBe("CONFLICT");
    expect((await readdir(sub)).sort()).toEqual(["master.key", "race.key"]);
  });
});
