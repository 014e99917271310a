import { createPublicKey, X509Certificate } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Fixtures, makeFixtures, openssl, publicKeyOf, run, type RunOptions } from "./__fixtures__/harness.js";

let fx: Fixtures;
const NEW_PASSWORD = "Nowe-Haslo-Xy9!Tajne";
const opts = (more: Partial<RunOptions> = {}): RunOptions => ({ cwd: fx.dir, ...more });
const everything: string[] = [];

async function cli(argv: readonly string[], more: Partial<RunOptions> = {}): ReturnType<typeof run> {
  const r = await run(argv, opts(more));
  everything.push(r.stdout, r.stderr);
  return r;
}

beforeAll(() => {
  fx = makeFixtures();
  fx.write("new.pass", `${NEW_PASSWORD}\n`);
});
afterAll(() => {
  // No command ever printed a password, on any stream, in any mode.
  const all = everything.join("\n");
  expect(all).not.toContain(fx.password);
  expect(all).not.toContain(NEW_PASSWORD);
  expect(all).not.toMatch(/PRIVATE KEY-----/);
  fx.cleanup();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("inspect", () => {
  it("describes a certificate (PEM and DER) with KSeF type, identifier and expiry", async () => {
    const now = new Date();
    const r = await cli(["inspect", "cert.crt", "cert.der", "--json"], { now });
    expect(r.code).toBe(0);
    const [pem, der] = r.json<{ files: Json[] }>().files;
    const x = new X509Certificate(fx.read("cert.crt"));
    expect(pem).toMatchObject({ file: "cert.crt", ok: true, kind: "certificate", container: "pem" });
    expect(der).toMatchObject({ file: "cert.der", ok: true, kind: "certificate", container: "der" });
    const c = pem?.certificate as Json;
    expect(c.serialNumber).toBe(x.serialNumber.toUpperCase());
    expect(c.fingerprintSha256).toBe(x.fingerprint256.replaceAll(":", ""));
    expect(c.ksefType).toBe("Authentication");
    expect(c.typeCheck).toEqual({ fromKeyUsage: "Authentication", fromCommonName: "Authentication", consistent: true });
    expect(c.subjectIdentifier).toEqual({ type: "Nip", value: "5265877635" });
    expect(c.key).toMatchObject({ type: "ec", curve: "P-256", algorithm: "EC-P256", ksefAccepted: true });
    expect(c.subject).toContain("Firma Zażółć (uwierzytelnienie)");
    expect(c.daysToExpiry).toBe(Math.floor((Date.parse(x.validTo) - now.getTime()) / 86_400_000));
    expect(c.status).toBe("valid");
    expect(der?.certificate).toEqual(c);
  });
  it("reports expiry relative to the clock", async () => {
    const later = new Date(Date.now() + 800 * 86_400_000);
    const r = await cli(["inspect", "cert.crt", "--json"], { now: later });
    expect(r.json<{ files: Json[] }>().files[0]?.certificate).toMatchObject({ status: "expired" });
    const human = await cli(["inspect", "cert.crt"], { now: later });
    expect(human.stdout).toMatch(/expired \d+ days ago/);
  });
  it("shows an openssl-encrypted key's parameters without a password, and a plain key's algorithm", async () => {
    const r = await cli(["inspect", "enc.key", "plain.pem", "--json"]);
    expect(r.code).toBe(0);
    const [enc, plain] = r.json<{ files: Json[] }>().files;
    expect(enc).toMatchObject({ kind: "encrypted-private-key", privateKey: { format: "pkcs8-encrypted", container: "pem", encrypted: true, supported: true } });
    // What openssl itself says it wrote: the salt is the first OCTET STRING, the iteration count the INTEGER after it.
    const parsed = openssl(fx.dir, ["asn1parse", "-in", "enc.key"]);
    const salt = /l= *(\d+) prim: OCTET STRING +\[HEX DUMP\]:[0-9A-F]+\n.*INTEGER +:([0-9A-F]+)/.exec(parsed);
    expect((enc?.privateKey as Json).encryption).toEqual({
      scheme: "PBES2",
      kdf: "PBKDF2",
      prf: "hmacWithSHA256",
      prfHasNullParameters: parsed.includes(":hmacWithSHA256\n") && /hmacWithSHA256\n.*prim: NULL/.test(parsed),
      cipher: "aes-256-cbc",
      iterations: Number.parseInt(salt?.[2] ?? "", 16),
      saltBytes: Number(salt?.[1]),
    });
    expect((enc?.privateKey as Json).ksefWebAppFormat).toBe(false); // openssl writes NULL PRF parameters; the web app does not
    expect((enc?.privateKey as Json).key).toBeUndefined();
    expect(plain).toMatchObject({ kind: "private-key", privateKey: { format: "pkcs8", encrypted: false, key: { algorithm: "EC-P256" } } });
  });
  it("describes a CSR with string types and a verified signature", async () => {
    const r = await cli(["inspect", "req.csr", "--json"]);
    expect(r.code).toBe(0);
    const csr = r.json<{ files: Json[] }>().files[0]?.csr as Json;
    expect(csr.signatureValid).toBe(true);
    expect(csr.key).toMatchObject({ algorithm: "EC-P256" });
    expect(csr.subjectAttributes).toContainEqual(expect.objectContaining({ name: "CN", value: "Jan Kowalski", stringType: "UTF8String" }));
    expect(csr.subjectAttributes).toContainEqual(expect.objectContaining({ name: "serialNumber", value: "PNOPL-44051401458", stringType: "PrintableString" }));
  });
  it("opens an openssl PKCS#12 with the password and shows its certificate and key", async () => {
    const r = await cli(["inspect", "bundle.p12", "--password-file", fx.passFile, "--json"]);
    expect(r.code).toBe(0);
    const p12 = r.json<{ files: Json[] }>().files[0]?.pkcs12 as Json;
    expect(p12.key).toMatchObject({ algorithm: "EC-P256" });
    expect((p12.certificate as Json).fingerprintSha256).toBe(new X509Certificate(fx.read("cert.crt")).fingerprint256.replaceAll(":", ""));
    const human = await cli(["inspect", "bundle.p12", "--password-stdin"], { stdin: `${fx.password}\n` });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("bundle.p12: PKCS#12 (DER)");
    expect(human.stdout).toContain("Firma Zażółć (uwierzytelnienie)");
  });
  it("asks for the PKCS#12 password on a terminal", async () => {
    const r = await cli(["inspect", "bundle.p12"], { prompts: [fx.password] });
    expect(r.code).toBe(0);
    expect(r.asked).toEqual(["Password for the PKCS#12 file bundle.p12:"]);
  });
  it("wrong PKCS#12 password: exit 4, other files still reported", async () => {
    fx.write("wrong.pass", "not-the-password\n");
    const r = await cli(["inspect", "cert.crt", "bundle.p12", "--password-file", "wrong.pass", "--json"]);
    expect(r.code).toBe(4);
    const files = r.json<{ files: Json[] }>().files;
    expect(files[0]).toMatchObject({ ok: true, kind: "certificate" });
    expect(files[1]).toMatchObject({ ok: false, error: { code: "WRONG_PASSWORD" } });
  });
  it("human mode: each file, failures on stderr, exit code of the first failure", async () => {
    const r = await cli(["inspect", "cert.crt", "notes.txt", "missing.crt", "enc.key"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("cert.crt: certificate (PEM)");
    expect(r.stdout).toMatch(/KSeF type: +Authentication/);
    expect(r.stdout).toContain("enc.key: encrypted private key (PEM)");
    expect(r.stdout).toMatch(/KSeF web app format: +no/);
    expect(r.stdout).toContain("notes.txt: failed (MALFORMED)");
    expect(r.stderr).toContain("notes.txt: error: notes.txt is not a certificate, private key, CSR or PKCS#12 file");
    expect(r.stderr).toContain("missing.crt: error: Cannot read missing.crt: no such file or directory.");
  });
  it("a PKCS#12 without a password source off a terminal is PASSWORD_REQUIRED", async () => {
    const r = await cli(["inspect", "bundle.p12", "--json"]);
    expect(r.code).toBe(4);
    expect(r.json<{ files: Json[] }>().files[0]?.error).toMatchObject({ code: "PASSWORD_REQUIRED" });
  });
});

describe("pair-check", () => {
  it("matches an openssl-encrypted key with its certificate (human and JSON)", async () => {
    const human = await cli(["pair-check", "--cert", "cert.crt", "--key", "enc.key", "--password-file", fx.passFile]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^matches: enc\.key is the private key of cert\.crt/);
    const json = await cli(["pair-check", "--cert", "cert.der", "--key", "plain.pem", "--json"]);
    expect(json.code).toBe(0);
    expect(json.json()).toMatchObject({ matches: true, privateKey: { format: "pkcs8" } });
  });
  it("mismatched pair: exit 6, KEY_MISMATCH", async () => {
    const human = await cli(["pair-check", "--cert", "cert.crt", "--key", "other.pem"]);
    expect(human.code).toBe(6);
    expect(human.stderr).toMatch(/^error: .*\nhint: /);
    const json = await cli(["pair-check", "--cert", "cert.crt", "--key", "other.pem", "--json"]);
    expect(json.code).toBe(6);
    expect(json.json()).toMatchObject({ error: { code: "KEY_MISMATCH" } });
  });
  it("wrong password: exit 4", async () => {
    const r = await cli(["pair-check", "--cert", "cert.crt", "--key", "enc.key", "--password-stdin", "--json"], { stdin: "nope\n" });
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ error: { code: "WRONG_PASSWORD" } });
  });
  it("files of the wrong kind: exit 3 with the kind named", async () => {
    const r = await cli(["pair-check", "--cert", "plain.pem", "--key", "cert.crt", "--json"]);
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({ error: { code: "MALFORMED" } });
  });
});

describe("convert", () => {
  it("pem -> p12 -> pem keeps the certificate bytes and the key; openssl reads our p12", async () => {
    const toP12 = await cli([
      "convert",
      "--to",
      "p12",
      "--cert",
      "cert.crt",
      "--key",
      "enc.key",
      "--out",
      "rt.p12",
      "--password-file",
      fx.passFile,
      "--new-password-file",
      "new.pass",
      "--json",
    ]);
    expect(toP12.code).toBe(0);
    expect(toP12.json()).toMatchObject({ to: "p12", outputs: [{ file: "rt.p12", kind: "pkcs12" }] });
    expect(statSync(join(fx.dir, "rt.p12")).mode & 0o777).toBe(0o600);

    // openssl (OpenSSL 3, no -legacy) reads it: the certificate and the key's public half.
    const certFromP12 = openssl(fx.dir, ["pkcs12", "-in", "rt.p12", "-passin", "file:new.pass", "-nokeys", "-clcerts"]);
    expect(new X509Certificate(certFromP12).raw).toEqual(new X509Certificate(fx.read("cert.crt")).raw);
    const keyFromP12 = openssl(fx.dir, ["pkcs12", "-in", "rt.p12", "-passin", "file:new.pass", "-nocerts", "-nodes"]);
    expect(createPublicKey(keyFromP12).export({ type: "spki", format: "pem" })).toBe(publicKeyOf(fx.dir, "plain.pem", "key"));

    const toPem = await cli([
      "convert",
      "--to",
      "pem",
      "--p12",
      "rt.p12",
      "--out-cert",
      "rt.crt",
      "--out-key",
      "rt.key",
      "--password-file",
      "new.pass",
      "--same-password",
    ]);
    expect(toPem.code).toBe(0);
    expect(toPem.stdout).toContain("wrote rt.crt");
    expect(new X509Certificate(fx.read("rt.crt")).raw).toEqual(new X509Certificate(fx.read("cert.crt")).raw);
    expect(publicKeyOf(fx.dir, "rt.key", "key", "new.pass")).toBe(publicKeyOf(fx.dir, "plain.pem", "key"));
    expect(statSync(join(fx.dir, "rt.key")).mode & 0o777).toBe(0o600);
    const inspected = await cli(["inspect", "rt.key", "--json"]);
    expect(inspected.json<{ files: Json[] }>().files[0]?.privateKey).toMatchObject({ ksefWebAppFormat: true });
  });
  it("an openssl-made p12 converts to PEM with the key in the KSeF format (prompted passwords)", async () => {
    const r = await cli(["convert", "--to", "pem", "--p12", "bundle.p12", "--out-cert", "b.crt", "--out-key", "b.key"], {
      prompts: [fx.password, NEW_PASSWORD, NEW_PASSWORD],
    });
    expect(r.code).toBe(0);
    expect(r.asked).toEqual(["Password for the PKCS#12 file bundle.p12:", "New password for b.key:", "Repeat the new password for b.key:"]);
    expect(publicKeyOf(fx.dir, "b.key", "key", "new.pass")).toBe(publicKeyOf(fx.dir, "cert.crt", "cert"));
  });
  it("--to ksef-key re-encrypts a plain key and openssl decrypts it", async () => {
    const r = await cli(["convert", "--to", "ksef-key", "--key", "plain.pem", "--out", "k.key", "--new-password-stdin", "--json"], {
      stdin: `${NEW_PASSWORD}\n`,
    });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ to: "ksef-key", from: { format: "pkcs8", container: "pem" }, key: { algorithm: "EC-P256" } });
    expect(publicKeyOf(fx.dir, "k.key", "key", "new.pass")).toBe(publicKeyOf(fx.dir, "plain.pem", "key"));
    expect(openssl(fx.dir, ["asn1parse", "-in", "k.key"])).toMatch(/hmacWithSHA256[\s\S]*aes-256-cbc/);
  });
  it("--to ksef-key with both passwords piped: line 1 old, line 2 new", async () => {
    const r = await cli(["convert", "--to", "ksef-key", "--key", "enc.key", "--out", "k2.key", "--password-stdin", "--new-password-stdin"], {
      stdin: `${fx.password}\n${NEW_PASSWORD}\n`,
    });
    expect(r.code).toBe(0);
    expect(publicKeyOf(fx.dir, "k2.key", "key", "new.pass")).toBe(publicKeyOf(fx.dir, "plain.pem", "key"));
  });
  it("refuses to overwrite without --force and replaces with it", async () => {
    fx.write("taken.key", "keep me");
    const r = await cli(["convert", "--to", "ksef-key", "--key", "plain.pem", "--out", "taken.key", "--new-password-file", "new.pass"]);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain("Will not overwrite taken.key");
    expect(readFileSync(join(fx.dir, "taken.key"), "utf8")).toBe("keep me");
    const forced = await cli(["convert", "--to", "ksef-key", "--key", "plain.pem", "--out", "taken.key", "--new-password-file", "new.pass", "--force"]);
    expect(forced.code).toBe(0);
    expect(publicKeyOf(fx.dir, "taken.key", "key", "new.pass")).toBe(publicKeyOf(fx.dir, "plain.pem", "key"));
  });
  it("a mismatched pair is refused before asking for the new password", async () => {
    const r = await cli(["convert", "--to", "p12", "--cert", "cert.crt", "--key", "other.pem", "--out", "bad.p12", "--json"], { prompts: [] });
    expect(r.code).toBe(6);
    expect(r.asked).toEqual([]);
    expect(existsSync(join(fx.dir, "bad.p12"))).toBe(false);
  });
  it("names every option that does not fit --to", async () => {
    const r = await cli(["convert", "--to", "pem", "--cert", "cert.crt", "--out", "x", "--json"]);
    expect(r.code).toBe(2);
    const fields = r.json<{ error: { violations: { field: string }[] } }>().error.violations.map((v) => v.field);
    expect(fields.sort()).toEqual(["--cert", "--out", "--out-cert", "--out-key", "--p12"]);
  });
  it("a weak new password is refused with each broken rule", async () => {
    fx.write("weak.pass", "short\n");
    const r = await cli(["convert", "--to", "ksef-key", "--key", "plain.pem", "--out", "w.key", "--new-password-file", "weak.pass", "--json"]);
    expect(r.code).toBe(2);
    expect(r.json<{ error: { violations: { rule: string }[] } }>().error.violations.map((v) => v.rule)).toEqual([
      "password.length",
      "password.upper",
      "password.digit",
      "password.special",
    ]);
    const ok = await cli([
      "convert",
      "--to",
      "ksef-key",
      "--key",
      "plain.pem",
      "--out",
      "w.key",
      "--new-password-file",
      "weak.pass",
      "--password-profile",
      "none",
    ]);
    expect(ok.code).toBe(0);
  });
});

describe("keygen", () => {
  it("writes an encrypted EC key that openssl decrypts, mode 0600, and its public key", async () => {
    const r = await cli(["keygen", "--out", "gen.key", "--public-out", "gen.pub", "--password-file", "new.pass"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote gen\.key: EC P-256 private key, encrypted \(PBES2, PBKDF2 hmacWithSHA256, 100000 iterations, 16-byte salt, aes-256-cbc\)/);
    expect(statSync(join(fx.dir, "gen.key")).mode & 0o777).toBe(0o600);
    expect(fx.read("gen.key").toString()).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    expect(publicKeyOf(fx.dir, "gen.key", "key", "new.pass")).toBe(fx.read("gen.pub").toString());
    expect(openssl(fx.dir, ["pkey", "-in", "gen.key", "-passin", "file:new.pass", "-noout", "-text"])).toMatch(/prime256v1|P-256/);
  });
  it("RSA-2048 with --json and a prompted password (asked twice)", async () => {
    const r = await cli(["keygen", "--algorithm", "rsa-2048", "--out", "rsa.key", "--json"], { prompts: [NEW_PASSWORD, NEW_PASSWORD] });
    expect(r.code).toBe(0);
    expect(r.asked).toHaveLength(2);
    expect(r.json()).toMatchObject({
      privateKey: { file: "rsa.key", format: "pkcs8-encrypted", key: { type: "rsa", bits: 2048, algorithm: "RSA-2048" }, encryption: { iterations: 100000 } },
    });
    expect(openssl(fx.dir, ["pkey", "-in", "rsa.key", "-passin", "file:new.pass", "-noout", "-text"])).toMatch(/2048 bit/);
  });
  it("two different entries on the terminal: exit 2, nothing written", async () => {
    const r = await cli(["keygen", "--out", "typo.key"], { prompts: [NEW_PASSWORD, `${NEW_PASSWORD}.`] });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: The two passwords differ.");
    expect(existsSync(join(fx.dir, "typo.key"))).toBe(false);
  });
  it("refuses to overwrite before asking for a password", async () => {
    const before = fx.read("gen.key");
    const r = await cli(["keygen", "--out", "gen.key", "--json"], { prompts: [] });
    expect(r.code).toBe(8);
    expect(r.json()).toMatchObject({ error: { code: "CONFLICT" } });
    expect(r.asked).toEqual([]);
    expect(fx.read("gen.key")).toEqual(before);
  });
  it("no password source off a terminal: exit 4", async () => {
    const r = await cli(["keygen", "--out", "none.key"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("hint: Run in a terminal to be asked (twice), or pass --password-file FILE or --password-stdin.");
  });
});

describe("csr", () => {
  const data = {
    commonName: "Firma Kowalski Certyfikat",
    countryName: "PL",
    serialNumber: "ABC123456789",
    uniqueIdentifier: "d9d22724-4696-460c-9e5e-b9e3aafb0af3",
    organizationName: "Firma Kowalski Sp. z o.o.",
    organizationIdentifier: "7762811692",
    givenName: null,
    surname: null,
  };
  beforeAll(() => {
    fx.write("data.json", JSON.stringify(data));
  });
  it("signs with an existing encrypted key; openssl req -verify accepts it", async () => {
    const r = await cli(["csr", "--enrollment-data", "data.json", "--key", "enc.key", "--out", "a.csr", "--password-file", fx.passFile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("wrote a.csr: CSR (pem)");
    openssl(fx.dir, ["req", "-in", "a.csr", "-verify", "-noout"]); // throws unless the signature verifies
    const subject = openssl(fx.dir, ["req", "-in", "a.csr", "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb"]);
    expect(subject).toContain("CN=Firma Kowalski Certyfikat");
    expect(subject).toContain("O=Firma Kowalski Sp. z o.o.");
    expect(openssl(fx.dir, ["req", "-in", "a.csr", "-noout", "-pubkey"])).toBe(publicKeyOf(fx.dir, "plain.pem", "key"));
  });
  it("generates a new key with --key-out; both verify with openssl (JSON, DER and base64)", async () => {
    const r = await cli(
      ["csr", "--enrollment-data", "data.json", "--key-out", "csr-new.key", "--out", "b.der", "--format", "der", "--password-stdin", "--json"],
      { stdin: `${NEW_PASSWORD}\n` },
    );
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({
      csr: { file: "b.der", format: "der", signatureValid: true, key: { algorithm: "EC-P256" } },
      privateKey: { file: "csr-new.key" },
    });
    openssl(fx.dir, ["req", "-in", "b.der", "-inform", "DER", "-verify", "-noout"]);
    expect(openssl(fx.dir, ["req", "-in", "b.der", "-inform", "DER", "-noout", "-pubkey"])).toBe(publicKeyOf(fx.dir, "csr-new.key", "key", "new.pass"));
    const b64 = await cli(["csr", "--enrollment-data", "data.json", "--key", "plain.pem", "--out", "c.b64", "--format", "base64"]);
    expect(b64.code).toBe(0);
    const text = fx.read("c.b64").toString();
    expect(text).toMatch(/^[A-Za-z0-9+/]+=*\n$/);
    fx.write("c.der", Buffer.from(text, "base64"));
    openssl(fx.dir, ["req", "-in", "c.der", "-inform", "DER", "-verify", "-noout"]);
  });
  it("names the wrong fields of the enrollment data", async () => {
    fx.write("bad.json", JSON.stringify({ commonName: 5, organizationName: ["x"], extra: "y" }));
    const r = await cli(["csr", "--enrollment-data", "bad.json", "--key", "plain.pem", "--out", "bad.csr", "--json"]);
    expect(r.code).toBe(2);
    const v = r.json<{ error: { violations: { field: string; rule: string }[] } }>().error.violations;
    expect(v).toEqual([
      expect.objectContaining({ field: "commonName", rule: "enrollmentData.type" }),
      expect.objectContaining({ field: "countryName", rule: "enrollmentData.required" }),
      expect.objectContaining({ field: "organizationName", rule: "enrollmentData.type" }),
      expect.objectContaining({ field: "extra", rule: "enrollmentData.unknownField" }),
    ]);
    fx.write("notjson.json", "{ not json");
    expect((await cli(["csr", "--enrollment-data", "notjson.json", "--key", "plain.pem", "--out", "bad.csr"])).code).toBe(3);
    expect(existsSync(join(fx.dir, "bad.csr"))).toBe(false);
  });
  it("needs exactly one of --key and --key-out", async () => {
    expect((await cli(["csr", "--enrollment-data", "data.json", "--out", "x.csr"])).code).toBe(2);
    expect((await cli(["csr", "--enrollment-data", "data.json", "--key", "plain.pem", "--key-out", "y.key", "--out", "x.csr"])).code).toBe(2);
  });
});

describe("the program", () => {
  it("refuses a password on argv without echoing it", async () => {
    for (const argv of [
      ["pair-check", "--cert", "cert.crt", "--key", "enc.key", "--password", fx.password],
      ["pair-check", "--cert", "cert.crt", "--key", "enc.key", `--password=${fx.password}`],
      ["keygen", "--out", "x.key", `--new-password=${fx.password}`],
    ]) {
      const r = await cli(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: unknown option '--(new-)?password': passwords are never taken from the command line/);
    }
    const json = await cli(["keygen", "--out", "x.key", "--password", fx.password, "--json"]);
    expect(json.json()).toMatchObject({ error: { code: "VALIDATION" } });
  });
  it("redacts values of other unknown options", async () => {
    const r = await cli(["keygen", "--out", "x.key", "--pasword=hunter2-secret"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--pasword=…'");
    expect(r.stderr).not.toContain("hunter2-secret");
  });
  it("usage errors exit 2, in JSON mode as a JSON error", async () => {
    const human = await cli(["pair-check", "--cert", "cert.crt"]);
    expect(human.code).toBe(2);
    expect(human.stderr).toContain("required option '--key <file>' not specified");
    const json = await cli(["pair-check", "--cert", "cert.crt", "--json"]);
    expect(json.code).toBe(2);
    expect(json.json()).toMatchObject({ error: { code: "VALIDATION", details: { commanderCode: "commander.missingMandatoryOptionValue" } } });
    expect((await cli(["convert", "--to", "zip"])).code).toBe(2);
    expect((await cli(["no-such-command"])).code).toBe(2);
  });
  it("every command has --help with examples", async () => {
    for (const name of ["inspect", "pair-check", "convert", "keygen", "csr"]) {
      const r = await cli([name, "--help"]);
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toContain("Examples:");
      expect(r.stdout, name).toContain("--json");
      expect(r.stdout, name).not.toMatch(/--password </);
    }
    const root = await cli(["--help"]);
    expect(root.code).toBe(0);
    expect(root.stdout).toContain("Exit codes:");
  });
  it("a missing file is exit 7 and a directory output is refused", async () => {
    expect((await cli(["pair-check", "--cert", "nope.crt", "--key", "plain.pem"])).code).toBe(7);
    writeFileSync(join(fx.dir, "pw-big.txt"), "x".repeat(5000));
    const big = await cli(["pair-check", "--cert", "cert.crt", "--key", "enc.key", "--password-file", "pw-big.txt", "--json"]);
    expect(big.code).toBe(3);
    expect(big.json()).toMatchObject({ error: { code: "TOO_LARGE" } });
  });
});
