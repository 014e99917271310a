// The key-derivation pool: what the workers compute is what node:crypto computes in place, heavy
// derivations go to the pool and light ones do not, closing fails what is pending, and heavy key work
// leaves libuv's thread pool (where sign-in hashing runs) free.
import { pbkdf2Sync, randomBytes, scrypt, scryptSync } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { isKsefCertsError } from "../errors.js";
import { generateKeyPair } from "./keys.js";
import { closeKeyDerivationPool, createKeyDerivationPool, INLINE_KDF_UNITS, kdfUnits, keyDerivationPool } from "./kdf-pool.js";
import { encryptPrivateKey, readPrivateKey } from "./pkcs8.js";
import { pkcs12Kdf, pkcs12KdfSync } from "./pbe.js";

afterEach(async () => {
  await closeKeyDerivationPool();
});

describe("a key-derivation pool", () => {
  const pool = createKeyDerivationPool(2);
  afterAll(async () => {
    await pool.close();
  });

  it("derives in its workers exactly what node:crypto derives in place (PBKDF2, scrypt, a hash chain)", async () => {
    const password = Buffer.from("hasło-ŻÓŁW", "utf8");
    const salt = randomBytes(16);
    for (const [digest, keyLength] of [
      ["sha256", 32],
      ["sha1", 32],
      ["sha512", 24],
    ] as const) {
      const derived = await pool.run({ kind: "pbkdf2", password: new Uint8Array(password), salt, iterations: 2048, keyLength, digest });
      expect(Buffer.from(derived).equals(pbkdf2Sync(password, salt, 2048, keyLength, digest))).toBe(true);
    }
    const scrypted = await pool.run({ kind: "scrypt", password: new Uint8Array(password), salt, keyLength: 32, N: 1024, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    expect(Buffer.from(scrypted).equals(scryptSync(password, salt, 32, { N: 1024, r: 8, p: 1 }))).toBe(true);
    // The PKCS#12 KDF's chain, checked through the KDF itself: heavy (pool) and in place give the same key.
    const bmp = Buffer.from("\u0000h\u0000a\u0000s\u0000l\u0000o\u0000\u0000", "latin1");
    const iterations = Math.ceil(INLINE_KDF_UNITS / 10) + 1;
    expect(kdfUnits({ kind: "hashChain", hash: "sha1", input: new Uint8Array(1), rounds: iterations })).toBeGreaterThan(INLINE_KDF_UNITS);
    const heavy = await pkcs12Kdf("sha256", bmp, salt, 3, iterations, 32);
    expect(keyDerivationPool().stats().workers).toBe(1);
    expect(Buffer.from(heavy).equals(Buffer.from(pkcs12KdfSync("sha256", bmp, salt, 3, iterations, 32)))).toBe(true);
    // A 40-byte sha1 output takes two chained blocks (RFC 7292 B.2 step 6c).
    expect(Buffer.from(await pkcs12Kdf("sha1", bmp, salt, 1, iterations, 40)).equals(Buffer.from(pkcs12KdfSync("sha1", bmp, salt, 1, iterations, 40)))).toBe(
      true,
    );
  });

  it("runs at most `size` jobs at once, queues the rest in order, and reports a worker failure as INTERNAL", async () => {
    const job = { kind: "pbkdf2" as const, password: new Uint8Array([1, 2, 3]), salt: new Uint8Array(16), iterations: 50_000, keyLength: 32, digest: "sha256" };
    const runs = [pool.run(job), pool.run(job), pool.run(job), pool.run(job), pool.run(job)];
    expect(pool.stats()).toMatchObject({ running: 2, queued: 3 });
    expect(pool.stats().workers).toBeLessThanOrEqual(2);
    const keys = await Promise.all(runs);
    expect(new Set(keys.map((k) => Buffer.from(k).toString("hex"))).size).toBe(1);
    expect(pool.stats()).toMatchObject({ running: 0, queued: 0 });
    await expect(pool.run({ ...job, digest: "no-such-digest" })).rejects.toMatchObject({ code: "INTERNAL" });
  });

  it("close() fails running and queued jobs with a retryable IO error, and the pool works again afterwards", async () => {
    const own = createKeyDerivationPool(1);
    const job = { kind: "pbkdf2" as const, password: new Uint8Array([1]), salt: new Uint8Array(16), iterations: 10_000_000, keyLength: 32, digest: "sha256" };
    const pending = [own.run(job), own.run(job)].map((p) => p.catch((err: unknown) => err));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await own.close();
    for (const err of await Promise.all(pending)) {
      expect(isKsefCertsError(err, "IO")).toBe(true);
      expect((err as { retryable: boolean }).retryable).toBe(true);
    }
    expect(own.stats()).toEqual({ workers: 0, running: 0, queued: 0 });
    expect((await own.run({ ...job, iterations: 1 })).byteLength).toBe(32);
    await own.close();
  });
});

describe("where key derivations run", () => {
  it("a light derivation (the KSeF web app's 100 000 iterations) starts no worker; a heavy one runs on the pool", async () => {
    const keys = await generateKeyPair("EC-P256");
    const light = await encryptPrivateKey(keys.privateKey, "Haslo-Klucza-1!");
    expect((await readPrivateKey(light, { password: "Haslo-Klucza-1!" })).key.equals(keys.privateKey)).toBe(true);
    expect(keyDerivationPool().stats().workers).toBe(0);
    const heavy = await encryptPrivateKey(keys.privateKey, "Haslo-Klucza-1!", { iterations: INLINE_KDF_UNITS + 1 });
    expect(keyDerivationPool().stats().workers).toBe(1);
    expect((await readPrivateKey(heavy, { password: "Haslo-Klucza-1!" })).key.equals(keys.privateKey)).toBe(true);
    await expect(readPrivateKey(heavy, { password: "Zle-Haslo-1!" })).rejects.toMatchObject({ code: "WRONG_PASSWORD" });
  });

  it("eight keys asking for 10 000 000 PBKDF2 iterations leave libuv's pool to password hashing: scrypt answers in under a second meanwhile", async () => {
    const keys = await generateKeyPair("EC-P256");
    const timed = async (): Promise<number> => {
      const started = performance.now();
      // What sign-in does (the admin app's account hashing): scrypt N=2^15, r=8 on libuv's pool.
      await new Promise<void>((resolve, reject) => {
        scrypt("Bardzo-dlugie-haslo-1", randomBytes(16), 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err) => {
          if (err === null) resolve();
          else reject(err);
        });
      });
      return performance.now() - started;
    };
    const alone = Math.min(await timed(), await timed());
    // Eight jobs of ~2–5 s each: on libuv's 4 threads they would hold every thread for seconds, and the scrypt below
    // would wait behind them. On the worker pool they take at most cores − 1 threads, none of them libuv's.
    const heavy = Array.from({ length: 8 }, () =>
      encryptPrivateKey(keys.privateKey, "Haslo-Klucza-1!", { iterations: 10_000_000 }).catch((err: unknown) => err),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(keyDerivationPool().stats()).toMatchObject({ running: keyDerivationPool().size, queued: 8 - keyDerivationPool().size });
    const elapsed = await timed();
    // Under a second (scrypt alone takes ~100 ms on an idle core); on a machine so loaded that scrypt alone takes
    // more than half a second, within twice that. Waiting behind the derivations would take seconds either way.
    expect(elapsed).toBeLessThan(Math.max(1000, 2 * alone));
    // Clean-up: the derivations are not needed; closing fails them instead of running ~40 s of PBKDF2.
    await closeKeyDerivationPool();
    for (const outcome of await Promise.all(heavy)) expect(isKsefCertsError(outcome, "IO")).toBe(true);
  }, 60_000);
});
