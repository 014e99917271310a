import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpensslDir } from "./__fixtures__/openssl.js";
import { MAX_PKCS12_BYTES } from "./encoding.js";
import { exportPkcs12, importPkcs12 } from "./pkcs12.js";
import { rejection } from "../testing/errors.js";

const PASSWORD = "Hasło-ŻÓŁW-2026 ąę";

let dir: OpensslDir;
let pwFile: string;
const keys: Record<"ec" | "rsa", KeyObject> = {} as Record<"ec" | "rsa", KeyObject>;
const certs: Record<"ec" | "rsa" | "ca", Uint8Array> = {} as Record<"ec" | "rsa" | "ca", Uint8Array>;

const pkcs8Der = (key: KeyObject): Buffer => key.export({ type: "pkcs8", format: "der" });
const pemToDer = (pem: string): Buffer => Buffer.from(new X509Certificate(pem).raw);

beforeAll(() => {
  dir = new OpensslDir();
  pwFile = dir.write("pw.txt", PASSWORD);
  dir.run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"]);
  dir.run(["req", "-new", "-x509", "-key", "ca.key", "-subj", "/CN=TEST CCK KSeF", "-days", "30", "-out", "ca.pem"]);
  keys.ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  keys.rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  for (const which of ["ec", "rsa"] as const) {
    dir.write(`${which}.key`, keys[which].export({ type: "pkcs8", format: "pem" }));
    dir.run(["req", "-new", "-key", `${which}.key`, "-subj", `/CN=Jan Kowalski ${which}`, "-out", `${which}.csr`]);
    dir.run(["x509", "-req", "-in", `${which}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "10", "-out", `${which}.pem`]);
    certs[which] = pemToDer(dir.read(`${which}.pem`).toString());
  }
  certs.ca = pemToDer(dir.read("ca.pem").toString());
});

afterAll(() => {
  dir.cleanup();
});

describe("exportPkcs12", () => {
  it("openssl (without -legacy) shows AES-256-CBC / PBKDF2 / SHA-256, MAC sha256, 100 000 iterations, and extracts our key and certificates", async () => {
    const p12 = await exportPkcs12({
      certificate: certs.ec,
      privateKey: keys.ec,
      chain: [certs.ca],
      password: PASSWORD,
      friendlyName: "Jan Kowalski (uwierzytelnienie)",
    });
    const file = dir.write("ours-ec.p12", p12);
    const info = dir.runBoth(["pkcs12", "-info", "-in", file, "-passin", `file:${pwFile}`, "-nodes"]);
    expect(info).toContain("MAC: sha256, Iteration 100000");
    expect(info).toContain("PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256");
    expect(info).toContain("Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256");
    expect(info).toMatch(/friendlyName: Jan Kowalski \(uwierzytelnienie\)/);
    const keyPem = dir.run(["pkcs12", "-in", file, "-passin", `file:${pwFile}`, "-nocerts", "-nodes"]).toString();
    expect(pkcs8Der(createPrivateKey(keyPem)).equals(pkcs8Der(keys.ec))).toBe(true);
    const leafPem = dir.run(["pkcs12", "-in", file, "-passin", `file:${pwFile}`, "-nokeys", "-clcerts"]).toString();
    expect(pemToDer(leafPem).equals(certs.ec)).toBe(true);
    const caPem = dir.run(["pkcs12", "-in", file, "-passin", `file:${pwFile}`, "-nokeys", "-cacerts"]).toString();
    expect(pemToDer(caPem).equals(certs.ca)).toBe(true);
    // localKeyID is the same on key and certificate bag (openssl pairs them by it).
    const ids = [...info.matchAll(/localKeyID: ([0-9A-F ]+)/g)].map((m) => m[1]?.trim());
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
  });

  it("writes RSA too, and node's tls.createSecureContext accepts it (and refuses a wrong passphrase)", async () => {
    const p12 = await exportPkcs12({ certificate: certs.rsa, privateKey: keys.rsa, password: PASSWORD, iterations: 2048 });
    const file = dir.write("ours-rsa.p12", p12);
    const info = dir.runBoth(["pkcs12", "-info", "-in", file, "-passin", `file:${pwFile}`, "-nodes"]);
    expect(info).toContain("MAC: sha256, Iteration 2048");
    expect(info).toContain("Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256");
    const keyPem = dir.run(["pkcs12", "-in", file, "-passin", `file:${pwFile}`, "-nocerts", "-nodes"]).toString();
    expect(pkcs8Der(createPrivateKey(keyPem)).equals(pkcs8Der(keys.rsa))).toBe(true);
    expect(() => createSecureContext({ pfx: Buffer.from(p12), passphrase: PASSWORD })).not.toThrow();
    expect(() => createSecureContext({ pfx: Buffer.from(p12), passphrase: "wrong" })).toThrow();
    const ec = await exportPkcs12({ certificate: certs.ec, privateKey: keys.ec, password: PASSWORD, iterations: 2048, macIterations: 4096 });
    expect(() => createSecureContext({ pfx: Buffer.from(ec), passphrase: PASSWORD })).not.toThrow();
  });

  it("embeds DER even when the certificate is given as PEM bytes", async () => {
    const p12 = await exportPkcs12({ certificate: dir.read("ec.pem"), privateKey: keys.ec, password: PASSWORD, iterations: 2048 });
    const file = dir.write("from-pem.p12", p12);
    const leafPem = dir.run(["pkcs12", "-in", file, "-passin", `file:${pwFile}`, "-nokeys", "-clcerts"]).toString();
    expect(pemToDer(leafPem).equals(certs.ec)).toBe(true);
    expect(Buffer.from((await importPkcs12(p12, PASSWORD)).certificate).equals(certs.ec)).toBe(true);
  });

  it("round-trips through importPkcs12", async () => {
    const p12 = await exportPkcs12({
      certificate: certs.rsa,
      privateKey: keys.rsa,
      chain: [certs.ca],
      password: PASSWORD,
      friendlyName: "Łódź",
      iterations: 2048,
    });
    const back = await importPkcs12(p12, PASSWORD);
    expect(pkcs8Der(back.privateKey).equals(pkcs8Der(keys.rsa))).toBe(true);
    expect(Buffer.from(back.certificate).equals(certs.rsa)).toBe(true);
    expect(back.chain.map((c) => Buffer.from(c).equals(certs.ca))).toEqual([true]);
    expect(back).toMatchObject({ friendlyName: "Łódź", macAlgorithm: "sha256", macIterations: 2048 });
    expect(back.encryption).toHaveLength(2);
    for (const e of back.encryption)
      expect(e).toMatchObject({ scheme: "PBES2", prf: "hmacWithSHA256", cipher: "aes-256-cbc", iterations: 2048, saltBytes: 16 });
  });

  it("refuses a key that does not belong to the certificate (KEY_MISMATCH), bad certificates (MALFORMED) and bad options (VALIDATION)", async () => {
    expect((await rejection(exportPkcs12({ certificate: certs.ec, privateKey: keys.rsa, password: PASSWORD }))).code).toBe("KEY_MISMATCH");
    expect((await rejection(exportPkcs12({ certificate: randomBytes(100), privateKey: keys.ec, password: PASSWORD }))).code).toBe("MALFORMED");
    expect((await rejection(exportPkcs12({ certificate: certs.ec, privateKey: keys.ec, chain: [randomBytes(10)], password: PASSWORD }))).code).toBe(
      "MALFORMED",
    );
    const err = await rejection(exportPkcs12({ certificate: certs.ec, privateKey: keys.ec, password: "", iterations: 10 }));
    expect(err.code).toBe("VALIDATION");
    expect(err.violations.map((v) => v.field)).toEqual(["password", "iterations", "macIterations"]);
  });
});

describe("importPkcs12: files written by openssl", () => {
  it.each(["ec", "rsa"] as const)("reads openssl 3's default p12 with a chain (%s)", async (which) => {
    dir.run([
      "pkcs12",
      "-export",
      "-in",
      `${which}.pem`,
      "-inkey",
      `${which}.key`,
      "-certfile",
      "ca.pem",
      "-name",
      "mój certyfikat",
      "-passout",
      `file:${pwFile}`,
      "-out",
      `${which}-modern.p12`,
    ]);
    const r = await importPkcs12(dir.read(`${which}-modern.p12`), PASSWORD);
    expect(pkcs8Der(r.privateKey).equals(pkcs8Der(keys[which]))).toBe(true);
    expect(Buffer.from(r.certificate).equals(certs[which])).toBe(true);
    expect(r.chain.map((c) => Buffer.from(c).equals(certs.ca))).toEqual([true]);
    expect(r.macAlgorithm).toBe("sha256");
    expect(r.encryption.map((e) => `${e.scheme}/${e.cipher ?? ""}`)).toEqual(["PBES2/aes-256-cbc", "PBES2/aes-256-cbc"]);
    // openssl converts the UTF-8 -name to BMPString; we read it back as the same text.
    expect(r.friendlyName).toBe("mój certyfikat");
  });

  it.each(["ec", "rsa"] as const)("reads openssl's -legacy p12: RC2-40 certificates, 3DES key, SHA-1 MAC (%s)", async (which) => {
    dir.run([
      "pkcs12",
      "-export",
      "-legacy",
      "-in",
      `${which}.pem`,
      "-inkey",
      `${which}.key`,
      "-certfile",
      "ca.pem",
      "-passout",
      `file:${pwFile}`,
      "-out",
      `${which}-legacy.p12`,
    ]);
    const r = await importPkcs12(dir.read(`${which}-legacy.p12`), PASSWORD);
    expect(pkcs8Der(r.privateKey).equals(pkcs8Der(keys[which]))).toBe(true);
    expect(Buffer.from(r.certificate).equals(certs[which])).toBe(true);
    expect(r.chain).toHaveLength(1);
    expect(r.macAlgorithm).toBe("sha1");
    expect(r.encryption.map((e) => e.scheme)).toEqual(["pbeWithSHAAnd40BitRC2-CBC", "pbeWithSHAAnd3-KeyTripleDES-CBC"]);
    expect((await rejection(importPkcs12(dir.read(`${which}-legacy.p12`), "wrong"))).code).toBe("WRONG_PASSWORD");
  });

  it("reads RC2-128 and 3DES certificate bags, and a file without MAC", async () => {
    dir.run([
      "pkcs12",
      "-export",
      "-legacy",
      "-certpbe",
      "PBE-SHA1-RC2-128",
      "-keypbe",
      "PBE-SHA1-3DES",
      "-in",
      "ec.pem",
      "-inkey",
      "ec.key",
      "-passout",
      `file:${pwFile}`,
      "-out",
      "rc2-128.p12",
    ]);
    const rc2 = await importPkcs12(dir.read("rc2-128.p12"), PASSWORD);
    expect(rc2.encryption[0]?.scheme).toBe("pbeWithSHAAnd128BitRC2-CBC");
    expect(pkcs8Der(rc2.privateKey).equals(pkcs8Der(keys.ec))).toBe(true);
    dir.run(["pkcs12", "-export", "-certpbe", "PBE-SHA1-3DES", "-in", "rsa.pem", "-inkey", "rsa.key", "-passout", `file:${pwFile}`, "-out", "3des.p12"]);
    const des = await importPkcs12(dir.read("3des.p12"), PASSWORD);
    expect(des.encryption.map((e) => e.scheme)).toEqual(["pbeWithSHAAnd3-KeyTripleDES-CBC", "PBES2"]);
    expect(Buffer.from(des.certificate).equals(certs.rsa)).toBe(true);
    // OpenSSL 3.0 writes the certificates unencrypted when -nomac is given.
    dir.run([
      "pkcs12",
      "-export",
      "-keypbe",
      "PBE-SHA1-3DES",
      "-nomac",
      "-in",
      "rsa.pem",
      "-inkey",
      "rsa.key",
      "-passout",
      `file:${pwFile}`,
      "-out",
      "nomac.p12",
    ]);
    const nomac = await importPkcs12(dir.read("nomac.p12"), PASSWORD);
    expect(nomac.macAlgorithm).toBeUndefined();
    expect(nomac.encryption.map((e) => e.scheme)).toEqual(["pbeWithSHAAnd3-KeyTripleDES-CBC"]);
    expect(pkcs8Der(nomac.privateKey).equals(pkcs8Der(keys.rsa))).toBe(true);
    expect(Buffer.from(nomac.certificate).equals(certs.rsa)).toBe(true);
    expect((await rejection(importPkcs12(dir.read("nomac.p12"), "wrong"))).code).toBe("WRONG_PASSWORD");
  });

  it("reads a p12 exported with an empty password and one with an unencrypted key bag", async () => {
    dir.run(["pkcs12", "-export", "-in", "ec.pem", "-inkey", "ec.key", "-passout", "env:P12_EMPTY", "-out", "empty.p12"], { P12_EMPTY: "" });
    const r = await importPkcs12(dir.read("empty.p12"), "");
    expect(pkcs8Der(r.privateKey).equals(pkcs8Der(keys.ec))).toBe(true);
    dir.run([
      "pkcs12",
      "-export",
      "-keypbe",
      "NONE",
      "-certpbe",
      "NONE",
      "-in",
      "rsa.pem",
      "-inkey",
      "rsa.key",
      "-passout",
      `file:${pwFile}`,
      "-out",
      "plainbags.p12",
    ]);
    const plain = await importPkcs12(dir.read("plainbags.p12"), PASSWORD);
    expect(pkcs8Der(plain.privateKey).equals(pkcs8Der(keys.rsa))).toBe(true);
    expect(plain.encryption).toEqual([]);
    // The MAC still guards the plain bags: a wrong password is caught.
    expect((await rejection(importPkcs12(dir.read("plainbags.p12"), "wrong"))).code).toBe("WRONG_PASSWORD");
  });
});

describe("importPkcs12: errors", () => {
  it("says clearly when the file holds no key or no certificate (MALFORMED)", async () => {
    dir.run(["pkcs12", "-export", "-nokeys", "-in", "ec.pem", "-passout", `file:${pwFile}`, "-out", "nokey.p12"]);
    const noKey = await rejection(importPkcs12(dir.read("nokey.p12"), PASSWORD));
    expect(noKey.code).toBe("MALFORMED");
    expect(noKey.message).toContain("no private key");
    dir.run(["pkcs12", "-export", "-nocerts", "-inkey", "ec.key", "-passout", `file:${pwFile}`, "-out", "nocert.p12"]);
    const noCert = await rejection(importPkcs12(dir.read("nocert.p12"), PASSWORD));
    expect(noCert.code).toBe("MALFORMED");
    expect(noCert.message).toContain("no certificate");
  });

  it("rejects a wrong password, a certificate, a key, PEM text, random bytes and oversized input with typed errors", async () => {
    const ours = await exportPkcs12({ certificate: certs.ec, privateKey: keys.ec, password: PASSWORD, iterations: 2048 });
    expect((await rejection(importPkcs12(ours, "hasło-ZOLW-2026 ae"))).code).toBe("WRONG_PASSWORD");
    expect((await rejection(importPkcs12(certs.ec, PASSWORD))).details["detected"]).toBe("certificate");
    expect((await rejection(importPkcs12(pkcs8Der(keys.ec), PASSWORD))).details["detected"]).toBe("pkcs8");
    expect((await rejection(importPkcs12(dir.read("ec.pem"), PASSWORD))).code).toBe("MALFORMED");
    expect((await rejection(importPkcs12(randomBytes(2000), PASSWORD))).code).toBe("MALFORMED");
    expect((await rejection(importPkcs12(new Uint8Array(MAX_PKCS12_BYTES + 1), PASSWORD))).code).toBe("TOO_LARGE");
  });

  it("refuses a hostile MAC iteration count quickly (UNSUPPORTED)", async () => {
    const ours = Buffer.from(await exportPkcs12({ certificate: certs.ec, privateKey: keys.ec, password: PASSWORD, iterations: 2048, macIterations: 0x010000 }));
    // The file ends with the MAC iteration INTEGER 02 03 01 00 00; make it 0x7fffff (8 388 607).
    expect([...ours.subarray(ours.length - 5)]).toEqual([2, 3, 1, 0, 0]);
    ours.set([0x7f, 0xff, 0xff], ours.length - 3);
    const started = Date.now();
    const err = await rejection(importPkcs12(ours, PASSWORD));
    expect(err.code).toBe("UNSUPPORTED");
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
