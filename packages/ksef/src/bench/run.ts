/**
 * `pnpm bench` for @ksef-certs/ksef: each figure printed beside the raw node:crypto cost of its
 * primitive, measured in the same run. Not part of the tests.
 *
 * Targets checked here: key decrypt and key encrypt (KSeF web app layout, PBKDF2 100 000) within
 * 1.15x of raw PBKDF2 + AES-256-CBC; XAdES signing against the peer client (xades.ts); KOD II links
 * per second (qr.ts). Exit code 1 if a target is missed, so a regression is loud.
 * `BENCH_ONLY=crypto|xades|qr` runs one part (the registry's benchmark is `@ksef-certs/domain`'s).
 */
import "reflect-metadata";
import { createCipheriv, createDecipheriv, createPrivateKey, hash, generateKeyPairSync, pbkdf2, pbkdf2Sync, randomBytes, sign } from "node:crypto";
import { promisify } from "node:util";
import { createCsr } from "../crypto/csr.js";
import { generateKeyPair } from "../crypto/keys.js";
import { exportPkcs12, importPkcs12 } from "../crypto/pkcs12.js";
import { encryptPrivateKeyPem, encryptPrivateKeySync, KSEF_KEY_ENCRYPTION, readPrivateKey, readPrivateKeySync } from "../crypto/pkcs8.js";
import { issueKsefLikeCertificate } from "../testing/ksef-like-certificate.js";
import type { EnrollmentData } from "../crypto/types.js";
import { benchGroup } from "../testing/bench.js";
import { benchKod2 } from "./qr.js";
import { benchXades } from "./xades.js";

const ITERATIONS = KSEF_KEY_ENCRYPTION.iterations ?? 100_000;
const PASSWORD = "Bench-Hasło-2026!";
const enrollmentData: EnrollmentData = {
  commonName: "Jan Kowalski",
  givenName: "Jan",
  surname: "Kowalski",
  serialNumber: "TINPL-5265877635",
  countryName: "PL",
};

const missed: string[] = [];
const check = (name: string, met: boolean | undefined): void => {
  if (met === false) missed.push(name);
};

console.log(`@ksef-certs/ksef benchmarks — node ${process.version}, PBKDF2 iterations ${ITERATIONS}`);
console.log("columns: time per op, ops per second, median per-round ratio to the group's first line (its raw baseline)");

async function benchCrypto(): Promise<void> {
  // Key generation.
  await benchGroup("key generation, EC P-256", [
    { name: "raw generateKeyPairSync('ec', P-256)", run: () => generateKeyPairSync("ec", { namedCurve: "prime256v1" }) },
    { name: "ours generateKeyPair('EC-P256')", run: () => generateKeyPair("EC-P256") },
  ]);
  await benchGroup(
    "key generation, RSA-2048 (prime search: ±25 % noise)",
    [
      { name: "raw generateKeyPairSync('rsa', 2048)", run: () => generateKeyPairSync("rsa", { modulusLength: 2048 }) },
      { name: "ours generateKeyPair('RSA-2048')", run: () => generateKeyPair("RSA-2048") },
    ],
    { rounds: 5, sampleMs: 1000 },
  );

  // CSR from enrollment data, key already generated.
  for (const algorithm of ["EC-P256", "RSA-2048"] as const) {
    const keys = await generateKeyPair(algorithm);
    const tbs = randomBytes(230); // about the size of a CertificationRequestInfo with this subject
    await benchGroup(`CSR from enrollment data, ${algorithm} (key given)`, [
      { name: `raw crypto.sign(sha256) of ${tbs.length} bytes`, run: () => sign("sha256", tbs, keys.privateKey) },
      { name: "ours createCsr", run: () => createCsr(enrollmentData, keys) },
    ]);
  }

  // Encrypted PKCS#8 in the KSeF web app layout.
  const ec = await generateKeyPair("EC-P256");
  const pkcs8 = ec.privateKey.export({ type: "pkcs8", format: "der" });
  // The async contenders are held to raw *async* PBKDF2 (libuv thread pool), which on some machines is
  // itself slower than pbkdf2Sync: comparing async with sync would measure the thread pool, not us.
  const pbkdf2Async = promisify(pbkdf2);
  const rawEncryptAsync = async (): Promise<Buffer> => {
    const salt = randomBytes(16);
    const iv = randomBytes(16);
    const dk = await pbkdf2Async(PASSWORD, salt, ITERATIONS, 32, "sha256");
    const c = createCipheriv("aes-256-cbc", dk, iv);
    return Buffer.concat([c.update(pkcs8), c.final()]);
  };
  const rawEncrypt = (): Buffer => {
    const salt = randomBytes(16);
    const iv = randomBytes(16);
    const dk = pbkdf2Sync(PASSWORD, salt, ITERATIONS, 32, "sha256");
    const c = createCipheriv("aes-256-cbc", dk, iv);
    return Buffer.concat([c.update(pkcs8), c.final()]);
  };
  const encEc = await encryptPrivateKeyPem(ec.privateKey, PASSWORD);
  check(
    "key encrypt",
    (
      await benchGroup(
        "encrypt EC key into the KSeF layout (PBES2, PBKDF2-HMAC-SHA256 100 000, AES-256-CBC)",
        [
          { name: "raw pbkdf2Sync + AES-256-CBC encrypt", run: rawEncrypt },
          { name: "raw pbkdf2 (async) + AES-256-CBC encrypt", run: rawEncryptAsync },
          { name: "ours encryptPrivateKeyPem (async)", run: () => encryptPrivateKeyPem(ec.privateKey, PASSWORD) },
          { name: "ours encryptPrivateKeySync", run: () => encryptPrivateKeySync(ec.privateKey, PASSWORD) },
        ],
        { target: { contender: "ours encryptPrivateKeyPem (async)", maxRatio: 1.15, relativeTo: "raw pbkdf2 (async) + AES-256-CBC encrypt" } },
      )
    ).targetMet,
  );

  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const ciphertext = (() => {
    const dk = pbkdf2Sync(PASSWORD, salt, ITERATIONS, 32, "sha256");
    const c = createCipheriv("aes-256-cbc", dk, iv);
    return Buffer.concat([c.update(pkcs8), c.final()]);
  })();
  const rawDecryptAsync = async (): Promise<Buffer> => {
    const dk = await pbkdf2Async(PASSWORD, salt, ITERATIONS, 32, "sha256");
    const d = createDecipheriv("aes-256-cbc", dk, iv);
    return Buffer.concat([d.update(ciphertext), d.final()]);
  };
  const rawDecrypt = (): Buffer => {
    const dk = pbkdf2Sync(PASSWORD, salt, ITERATIONS, 32, "sha256");
    const d = createDecipheriv("aes-256-cbc", dk, iv);
    return Buffer.concat([d.update(ciphertext), d.final()]);
  };
  check(
    "key decrypt",
    (
      await benchGroup(
        "decrypt a KSeF .key (EC, PBKDF2-HMAC-SHA256 100 000, AES-256-CBC)",
        [
          { name: "raw pbkdf2Sync + AES-256-CBC decrypt", run: rawDecrypt },
          { name: "raw pbkdf2 (async) + AES-256-CBC decrypt", run: rawDecryptAsync },
          { name: "ours readPrivateKey (async)", run: () => readPrivateKey(encEc, { password: PASSWORD }) },
          { name: "ours readPrivateKeySync", run: () => readPrivateKeySync(encEc, { password: PASSWORD }) },
          { name: "node createPrivateKey({ passphrase })", run: () => createPrivateKey({ key: encEc, passphrase: PASSWORD }) },
        ],
        { target: { contender: "ours readPrivateKey (async)", maxRatio: 1.15, relativeTo: "raw pbkdf2 (async) + AES-256-CBC decrypt" } },
      )
    ).targetMet,
  );

  // PKCS#12: two PBKDF2 (key bag, certificate bag) and the PKCS#12-KDF of the MAC (RFC 7292 App. B:
  // `iterations` one-shot SHA-256 hashes), all at the same iteration count; import runs the same three.
  const { der: certDer } = await issueKsefLikeCertificate({ certificateType: "Authentication", keys: ec, enrollmentData });
  const p12 = await exportPkcs12({ certificate: certDer, privateKey: ec.privateKey, password: PASSWORD });
  const rawP12 = (): void => {
    pbkdf2Sync(PASSWORD, salt, ITERATIONS, 32, "sha256");
    pbkdf2Sync(PASSWORD, salt, ITERATIONS, 32, "sha256");
    let block: Buffer = randomBytes(64);
    for (let i = 0; i < ITERATIONS; i++) block = hash("sha256", block, "buffer");
  };
  await benchGroup(
    "PKCS#12 export and import (AES-256-CBC, PBKDF2-SHA256 100 000, SHA-256 MAC 100 000)",
    [
      { name: "raw 2x pbkdf2Sync + 100 000 x one-shot SHA-256", run: rawP12 },
      { name: "ours exportPkcs12", run: () => exportPkcs12({ certificate: certDer, privateKey: ec.privateKey, password: PASSWORD }) },
      { name: "ours importPkcs12", run: () => importPkcs12(p12, PASSWORD) },
    ],
    { rounds: 5 },
  );
}

const only = process.env.BENCH_ONLY;
if (only === undefined || only === "crypto") await benchCrypto();
if (only === undefined || only === "xades") missed.push(...(await benchXades()));
if (only === undefined || only === "qr") check("KOD II EC links per second", (await benchKod2()).targetMet);

if (missed.length > 0) {
  console.log(`\ntargets missed: ${missed.join(", ")}`);
  process.exitCode = 1;
} else {
  console.log("\nall targets met");
}
