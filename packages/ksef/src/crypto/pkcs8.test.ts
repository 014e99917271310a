import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asn1parse, OpensslDir } from "./__fixtures__/openssl.js";
import { algorithmIdentifier, integer, OID, octetString, sequence, toDer } from "./asn1.js";
import { encodePem, MAX_OBJECT_BYTES } from "./encoding.js";
import {
  isKsefKeyEncryption,
  encryptPrivateKey,
  encryptPrivateKeyPem,
  encryptPrivateKeySync,
  inspectPrivateKey,
  KSEF_KEY_ENCRYPTION,
  readPrivateKey,
  readPrivateKeySync,
} from "./pkcs8.js";
import { rejection, thrown } from "../testing/errors.js";

const PASSWORD = "Zażółć gęślą jaźń 2026!";

let dir: OpensslDir;
let ec: KeyObject;
let rsa: KeyObject;
let pwFile: string;

const pkcs8Der = (key: KeyObject): Buffer => key.export({ type: "pkcs8", format: "der" });

beforeAll(() => {
  dir = new OpensslDir();
  ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  pwFile = dir.write("pw.txt", PASSWORD);
  dir.write("ec.pem", ec.export({ type: "pkcs8", format: "pem" }));
  dir.write("rsa.pem", rsa.export({ type: "pkcs8", format: "pem" }));
});

afterAll(() => {
  dir.cleanup();
});

describe("encryptPrivateKey: the KSeF web-app layout", () => {
  it("writes PBES2 / PBKDF2 / hmacWithSHA256 without NULL / 100 000 / 16-byte salt / AES-256-CBC, 246 bytes for P-256", async () => {
    const der = await encryptPrivateKey(ec, PASSWORD);
    expect(der.byteLength).toBe(246);
    const lines = asn1parse(dir, der);
    const objects = lines.filter((l) => l.type === "OBJECT").map((l) => l.value);
    expect(objects).toEqual(["PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc"]);
    const integers = lines.filter((l) => l.type === "INTEGER");
    // One INTEGER only: the iteration count; no keyLength field.
    expect(integers.map((l) => parseInt(l.value, 16))).toEqual([100_000]);
    const octets = lines.filter((l) => l.type === "OCTET STRING");
    expect(octets.map((l) => l.length)).toEqual([16, 16, 144]); // salt, IV, ciphertext
    const prfIndex = lines.findIndex((l) => l.value === "hmacWithSHA256");
    expect(lines[prfIndex - 1]).toMatchObject({ type: "SEQUENCE", length: 10 }); // OID only, no NULL
    expect(lines.some((l) => l.type === "NULL")).toBe(false);
    expect(inspectPrivateKey(der).encryption).toEqual(KSEF_KEY_ENCRYPTION);
  });

  it("is decrypted by openssl pkey (PEM and DER, EC and RSA) to the same key", async () => {
    for (const key of [ec, rsa]) {
      const pem = dir.write("ours.pem", await encryptPrivateKeyPem(key, PASSWORD));
      expect(dir.read("ours.pem").toString()).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
      const fromPem = dir.run(["pkcs8", "-topk8", "-nocrypt", "-in", pem, "-passin", `file:${pwFile}`, "-outform", "DER"]);
      expect(fromPem.equals(pkcs8Der(key))).toBe(true);
      const der = dir.write("ours.der", await encryptPrivateKey(key, PASSWORD));
      const fromDer = dir.run(["pkcs8", "-topk8", "-nocrypt", "-inform", "DER", "-in", der, "-passin", `file:${pwFile}`, "-outform", "DER"]);
      expect(fromDer.equals(pkcs8Der(key))).toBe(true);
    }
  });

  it("honours iterations, saltBytes, prf and cipher options (and omits the DEFAULT hmacWithSHA1)", async () => {
    const der = await encryptPrivateKey(rsa, PASSWORD, { iterations: 2048, saltBytes: 32, prf: "hmacWithSHA512", cipher: "aes-128-cbc" });
    const lines = asn1parse(dir, der);
    expect(lines.filter((l) => l.type === "OBJECT").map((l) => l.value)).toEqual(["PBES2", "PBKDF2", "hmacWithSHA512", "aes-128-cbc"]);
    expect(parseInt(lines.find((l) => l.type === "INTEGER")?.value ?? "", 16)).toBe(2048);
    expect(lines.filter((l) => l.type === "OCTET STRING")[0]?.length).toBe(32);
    const file = dir.write("opts.der", der);
    expect(dir.run(["pkcs8", "-topk8", "-nocrypt", "-inform", "DER", "-in", file, "-passin", `file:${pwFile}`, "-outform", "DER"]).equals(pkcs8Der(rsa))).toBe(
      true,
    );

    const sha1 = await encryptPrivateKey(ec, PASSWORD, { iterations: 1000, prf: "hmacWithSHA1", cipher: "aes-192-cbc" });
    const sha1Lines = asn1parse(dir, sha1);
    expect(sha1Lines.filter((l) => l.type === "OBJECT").map((l) => l.value)).toEqual(["PBES2", "PBKDF2", "aes-192-cbc"]);
    const f2 = dir.write("sha1.der", sha1);
    expect(dir.run(["pkcs8", "-topk8", "-nocrypt", "-inform", "DER", "-in", f2, "-passin", `file:${pwFile}`, "-outform", "DER"]).equals(pkcs8Der(ec))).toBe(
      true,
    );
  });

  it("uses a fresh salt and IV each time", async () => {
    const a = await encryptPrivateKey(ec, PASSWORD, { iterations: 1000 });
    const b = await encryptPrivateKey(ec, PASSWORD, { iterations: 1000 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    const saltOf = (der: Uint8Array): string => asn1parse(dir, der).filter((l) => l.type === "OCTET STRING")[0]?.value ?? "";
    expect(saltOf(a)).not.toBe(saltOf(b));
  });

  it("the sync variant writes the same layout and reads back", () => {
    const der = encryptPrivateKeySync(ec, PASSWORD);
    expect(der.byteLength).toBe(246);
    expect(inspectPrivateKey(der).encryption).toEqual(KSEF_KEY_ENCRYPTION);
    const back = readPrivateKeySync(der, { password: PASSWORD });
    expect(pkcs8Der(back.key).equals(pkcs8Der(ec))).toBe(true);
  });

  it("refuses a public key, an empty password and options out of range (VALIDATION)", async () => {
    const pub = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
    expect((await rejection(encryptPrivateKey(pub, PASSWORD))).code).toBe("VALIDATION");
    expect((await rejection(encryptPrivateKey(ec, ""))).code).toBe("VALIDATION");
    const err = await rejection(encryptPrivateKey(ec, PASSWORD, { iterations: 0, saltBytes: 4 }));
    expect(err.code).toBe("VALIDATION");
    expect(err.violations.map((v) => v.field)).toEqual(["iterations", "saltBytes"]);
    expect((await rejection(encryptPrivateKey(ec, PASSWORD, { iterations: 10_000_001 }))).code).toBe("VALIDATION");
  });
});

describe("readPrivateKey: keys written by openssl", () => {
  const prfs = ["hmacWithSHA1", "hmacWithSHA224", "hmacWithSHA256", "hmacWithSHA384", "hmacWithSHA512"];
  const ciphers = ["aes-128-cbc", "aes-192-cbc", "aes-256-cbc", "des-ede3-cbc"];

  it.each(["ec", "rsa"])("decrypts every PBES2 PRF × cipher openssl writes (%s, 2048 iterations)", async (which) => {
    const key = which === "ec" ? ec : rsa;
    for (const prf of prfs) {
      for (const cipher of ciphers) {
        const outform = cipher === "aes-192-cbc" ? "DER" : "PEM";
        const out = dir.path(`${which}-${prf}-${cipher}.${outform.toLowerCase()}`);
        dir.run([
          "pkcs8",
          "-topk8",
          "-in",
          `${which}.pem`,
          "-v2",
          cipher,
          "-v2prf",
          prf,
          "-iter",
          "2048",
          "-passout",
          `file:${pwFile}`,
          "-outform",
          outform,
          "-out",
          out,
        ]);
        const info = await readPrivateKey(dir.read(out.slice(dir.dir.length + 1)), { password: PASSWORD });
        expect(pkcs8Der(info.key).equals(pkcs8Der(key))).toBe(true);
        expect(info.format).toBe("pkcs8-encrypted");
        expect(info.container).toBe(outform === "DER" ? "der" : "pem");
        expect(info.encryption).toMatchObject({ scheme: "PBES2", kdf: "PBKDF2", prf, cipher, iterations: 2048, saltBytes: 8 });
      }
    }
  });

  it("decrypts openssl's 100 000-iteration key (the KSeF iteration count)", async () => {
    dir.run([
      "pkcs8",
      "-topk8",
      "-in",
      "ec.pem",
      "-v2",
      "aes-256-cbc",
      "-v2prf",
      "hmacWithSHA256",
      "-iter",
      "100000",
      "-passout",
      `file:${pwFile}`,
      "-out",
      "ec100k.pem",
    ]);
    const info = await readPrivateKey(dir.read("ec100k.pem"), { password: PASSWORD });
    expect(pkcs8Der(info.key).equals(pkcs8Der(ec))).toBe(true);
    expect(info.encryption).toMatchObject({ iterations: 100_000, prfHasNullParameters: true });
    expect(info.description).toEqual({ type: "ec", curve: "P-256", algorithm: "EC-P256", ksefAccepted: true });
  });

  it.each(["ec", "rsa"])("decrypts PKCS#12 PBE (-v1 PBE-SHA1-3DES and PBE-SHA1-2DES) keys (%s)", async (which) => {
    const key = which === "ec" ? ec : rsa;
    for (const [v1, scheme] of [
      ["PBE-SHA1-3DES", "pbeWithSHAAnd3-KeyTripleDES-CBC"],
      ["PBE-SHA1-2DES", "pbeWithSHAAnd2-KeyTripleDES-CBC"],
    ] as const) {
      dir.run(["pkcs8", "-topk8", "-in", `${which}.pem`, "-v1", v1, "-iter", "2048", "-passout", `file:${pwFile}`, "-out", `${which}-${v1}.pem`]);
      const info = await readPrivateKey(dir.read(`${which}-${v1}.pem`), { password: PASSWORD });
      expect(pkcs8Der(info.key).equals(pkcs8Der(key))).toBe(true);
      expect(info.encryption).toMatchObject({ scheme, iterations: 2048 });
    }
  });

  it("decrypts PBES2 with scrypt (openssl -scrypt)", async () => {
    dir.run(["pkcs8", "-topk8", "-in", "ec.pem", "-scrypt", "-passout", `file:${pwFile}`, "-out", "ec-scrypt.pem"]);
    const info = await readPrivateKey(dir.read("ec-scrypt.pem"), { password: PASSWORD });
    expect(pkcs8Der(info.key).equals(pkcs8Der(ec))).toBe(true);
    expect(info.encryption).toMatchObject({ scheme: "PBES2", kdf: "scrypt", cipher: "aes-256-cbc", iterations: 16384 });
  });

  it("decrypts OpenSSL legacy PEM encryption (Proc-Type: 4,ENCRYPTED) for PKCS#1 and SEC1", async () => {
    dir.run(["rsa", "-in", "rsa.pem", "-traditional", "-aes256", "-passout", `file:${pwFile}`, "-out", "rsa-legacy.pem"]);
    dir.run(["ec", "-in", "ec.pem", "-des3", "-passout", `file:${pwFile}`, "-out", "ec-legacy.pem"]);
    expect(dir.read("rsa-legacy.pem").toString()).toContain("Proc-Type: 4,ENCRYPTED");
    const r = await readPrivateKey(dir.read("rsa-legacy.pem"), { password: PASSWORD });
    expect(pkcs8Der(r.key).equals(pkcs8Der(rsa))).toBe(true);
    expect(r).toMatchObject({ format: "pkcs1", encryption: { cipher: "aes-256-cbc" } });
    const e = await readPrivateKey(dir.read("ec-legacy.pem"), { password: PASSWORD });
    expect(pkcs8Der(e.key).equals(pkcs8Der(ec))).toBe(true);
    expect(e).toMatchObject({ format: "sec1", encryption: { cipher: "des-ede3-cbc" } });
    expect((await rejection(readPrivateKey(dir.read("ec-legacy.pem"), { password: "nope" }))).code).toBe("WRONG_PASSWORD");
    expect((await rejection(readPrivateKey(dir.read("ec-legacy.pem")))).code).toBe("PASSWORD_REQUIRED");
    expect(inspectPrivateKey(dir.read("ec-legacy.pem"))).toMatchObject({
      format: "sec1",
      encrypted: true,
      supported: true,
      encryption: { cipher: "des-ede3-cbc" },
    });
  });

  it("names a legacy PEM cipher it cannot run (UNSUPPORTED) and inspect still describes the file", async () => {
    dir.run(["ec", "-in", "ec.pem", "-camellia256", "-passout", `file:${pwFile}`, "-out", "ec-camellia.pem"]);
    const err = await rejection(readPrivateKey(dir.read("ec-camellia.pem"), { password: PASSWORD }));
    expect(err.code).toBe("UNSUPPORTED");
    expect(err.details["scheme"]).toContain("CAMELLIA-256-CBC");
    expect(inspectPrivateKey(dir.read("ec-camellia.pem"))).toMatchObject({ format: "sec1", encrypted: true, supported: false });
  });

  it("reads plain PKCS#8, PKCS#1 and SEC1 in PEM and DER, and DER bytes in a file named .pem", async () => {
    dir.run(["pkcs8", "-topk8", "-nocrypt", "-in", "ec.pem", "-outform", "DER", "-out", "ec-pkcs8.der"]);
    dir.run(["rsa", "-in", "rsa.pem", "-traditional", "-out", "rsa-pkcs1.pem"]);
    dir.run(["rsa", "-in", "rsa.pem", "-traditional", "-outform", "DER", "-out", "rsa-pkcs1.der"]);
    dir.run(["ec", "-in", "ec.pem", "-out", "ec-sec1.pem"]);
    dir.run(["ec", "-in", "ec.pem", "-outform", "DER", "-out", "ec-sec1.der"]);
    dir.run(["pkcs8", "-topk8", "-nocrypt", "-in", "ec.pem", "-outform", "DER", "-out", "java-sample.pem"]);
    expect(dir.read("rsa-pkcs1.pem").toString()).toContain("BEGIN RSA PRIVATE KEY");
    expect(dir.read("ec-sec1.pem").toString()).toContain("BEGIN EC PRIVATE KEY");
    const cases: [string, KeyObject, string, string][] = [
      ["ec.pem", ec, "pkcs8", "pem"],
      ["ec-pkcs8.der", ec, "pkcs8", "der"],
      ["rsa-pkcs1.pem", rsa, "pkcs1", "pem"],
      ["rsa-pkcs1.der", rsa, "pkcs1", "der"],
      ["ec-sec1.pem", ec, "sec1", "pem"],
      ["ec-sec1.der", ec, "sec1", "der"],
      ["java-sample.pem", ec, "pkcs8", "der"],
    ];
    for (const [file, key, format, container] of cases) {
      const info = await readPrivateKey(dir.read(file), { password: "ignored for plain keys" });
      expect({ file, format: info.format, container: info.container, encryption: info.encryption }).toEqual({ file, format, container, encryption: undefined });
      expect(pkcs8Der(info.key).equals(pkcs8Der(key))).toBe(true);
      expect(inspectPrivateKey(dir.read(file))).toMatchObject({ format, container, encrypted: false, supported: true });
    }
    expect((await readPrivateKey(dir.read("rsa-pkcs1.pem"))).description).toEqual({ type: "rsa", bits: 2048, algorithm: "RSA-2048", ksefAccepted: true });
    // Text input works like bytes; a key following other PEM blocks (openssl pkcs12 -nodes output) is found.
    const bundle = `Bag Attributes\n    localKeyID: 01\n${dir.read("ec-sec1.pem").toString()}`;
    expect(pkcs8Der((await readPrivateKey(bundle)).key).equals(pkcs8Der(ec))).toBe(true);
  });
});

describe("readPrivateKey: errors", () => {
  it("tells a wrong password (WRONG_PASSWORD) from a missing one (PASSWORD_REQUIRED)", async () => {
    const pem = await encryptPrivateKeyPem(ec, PASSWORD, { iterations: 1000 });
    const wrong = await rejection(readPrivateKey(pem, { password: "Zazolc gesla jazn 2026!" }));
    expect(wrong.code).toBe("WRONG_PASSWORD");
    expect(wrong.message).not.toContain("Zazolc");
    const missing = await rejection(readPrivateKey(pem));
    expect(missing.code).toBe("PASSWORD_REQUIRED");
    expect(missing.details["encryption"]).toMatchObject({ scheme: "PBES2", iterations: 1000 });
    dir.run(["pkcs8", "-topk8", "-in", "rsa.pem", "-v1", "PBE-SHA1-3DES", "-passout", `file:${pwFile}`, "-out", "rsa-3des.pem"]);
    expect((await rejection(readPrivateKey(dir.read("rsa-3des.pem"), { password: "x" }))).code).toBe("WRONG_PASSWORD");
    expect((await rejection(readPrivateKey(dir.read("rsa-3des.pem"), { password: "" }))).code).toBe("WRONG_PASSWORD");
  });

  it("names unsupported schemes: PBES1 MD5-DES and RC2 from openssl's legacy provider (UNSUPPORTED)", async () => {
    for (const [v1, scheme] of [
      ["PBE-MD5-DES", "pbeWithMD5AndDES-CBC"],
      ["PBE-SHA1-RC2-40", "pbeWithSHAAnd40BitRC2-CBC"],
    ] as const) {
      const out = `ec-${v1}.pem`;
      dir.run(["pkcs8", "-topk8", "-in", "ec.pem", "-v1", v1, "-passout", `file:${pwFile}`, "-out", out, "-provider", "legacy", "-provider", "default"]);
      const err = await rejection(readPrivateKey(dir.read(out), { password: PASSWORD }));
      expect(err.code).toBe("UNSUPPORTED");
      expect(err.details["scheme"]).toBe(scheme);
      expect(err.message).toContain(scheme);
      // UNSUPPORTED comes before PASSWORD_REQUIRED: no password would help.
      expect((await rejection(readPrivateKey(dir.read(out)))).code).toBe("UNSUPPORTED");
      expect(inspectPrivateKey(dir.read(out))).toMatchObject({ encrypted: true, supported: false, encryption: { scheme } });
    }
  });

  function handBuilt(prfOid: string | undefined, cipherOid: string, iterations = 2048, saltBytes = 16, ivBytes = 16): Uint8Array {
    const kdfParams = [octetString(randomBytes(saltBytes)), integer(iterations), ...(prfOid === undefined ? [] : [algorithmIdentifier(prfOid, null)])];
    return toDer(
      sequence([
        algorithmIdentifier(
          OID.pbes2,
          sequence([algorithmIdentifier(OID.pbkdf2, sequence(kdfParams)), algorithmIdentifier(cipherOid, octetString(randomBytes(ivBytes)))]),
        ),
        octetString(randomBytes(48)),
      ]),
    );
  }

  it("names an unknown PRF or cipher by OID, and refuses hostile iteration counts and salts fast", async () => {
    const prf = await rejection(readPrivateKey(handBuilt("1.2.3.4.5", OID.aes256Cbc), { password: "x" }));
    expect(prf).toMatchObject({ code: "UNSUPPORTED", details: { scheme: "PBES2 with PRF 1.2.3.4.5" } });
    const gcm = await rejection(readPrivateKey(handBuilt(OID.hmacWithSHA256, "2.16.840.1.101.3.4.1.46"), { password: "x" }));
    expect(gcm).toMatchObject({ code: "UNSUPPORTED", details: { scheme: "PBES2 with cipher aes-256-gcm" } });
    const unknownCipher = await rejection(readPrivateKey(handBuilt(OID.hmacWithSHA256, "1.2.3.99"), { password: "x" }));
    expect(unknownCipher.details["scheme"]).toBe("PBES2 with cipher 1.2.3.99");
    const started = Date.now();
    const hostile = await rejection(readPrivateKey(handBuilt(OID.hmacWithSHA256, OID.aes256Cbc, 2 ** 31), { password: "x" }));
    expect(hostile.code).toBe("UNSUPPORTED");
    expect(hostile.details["limit"]).toBe(10_000_000);
    expect(Date.now() - started).toBeLessThan(1000);
    const inspected = inspectPrivateKey(handBuilt(OID.hmacWithSHA256, OID.aes256Cbc, 2 ** 40));
    expect(inspected).toMatchObject({ supported: false, encryption: { scheme: "PBES2", prf: "hmacWithSHA256", cipher: "aes-256-cbc" } });
    expect((await rejection(readPrivateKey(handBuilt(OID.hmacWithSHA256, OID.aes256Cbc, 2048, 2000), { password: "x" }))).code).toBe("UNSUPPORTED");
    expect((await rejection(readPrivateKey(handBuilt(OID.hmacWithSHA256, OID.aes256Cbc, 2048, 16, 8), { password: "x" }))).code).toBe("MALFORMED");
    // A hand-built file with a valid scheme but random ciphertext is a wrong password, not a crash.
    expect((await rejection(readPrivateKey(handBuilt(OID.hmacWithSHA256, OID.aes256Cbc), { password: "x" }))).code).toBe("WRONG_PASSWORD");
  });

  it("says a certificate, CSR or public key is not a key (MALFORMED with details.detected)", async () => {
    dir.run(["req", "-new", "-x509", "-key", "ec.pem", "-subj", "/CN=Jan Kowalski", "-days", "2", "-out", "cert.pem"]);
    dir.run(["x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der"]);
    dir.run(["req", "-new", "-key", "ec.pem", "-subj", "/CN=Jan Kowalski", "-out", "csr.pem"]);
    dir.run(["pkey", "-in", "ec.pem", "-pubout", "-out", "pub.pem"]);
    dir.run(["pkcs12", "-export", "-in", "cert.pem", "-inkey", "ec.pem", "-passout", `file:${pwFile}`, "-out", "x.p12"]);
    const cases: [string, string, RegExp][] = [
      ["cert.pem", "certificate", /certificate, not a private key/],
      ["cert.der", "certificate", /certificate, not a private key/],
      ["csr.pem", "csr", /signing request/],
      ["pub.pem", "spki", /public key/],
      ["x.p12", "pkcs12", /PKCS#12/],
    ];
    for (const [file, detected, message] of cases) {
      const err = await rejection(readPrivateKey(dir.read(file), { password: PASSWORD }));
      expect({ file, code: err.code, detected: err.details["detected"] }).toEqual({ file, code: "MALFORMED", detected });
      expect(err.message).toMatch(message);
      expect(thrown(() => inspectPrivateKey(dir.read(file))).code).toBe("MALFORMED");
    }
  });

  it("rejects random bytes, truncated PEM, bad base64, empty and oversized input with typed errors", async () => {
    const pem = await encryptPrivateKeyPem(ec, PASSWORD, { iterations: 1000 });
    const cases: [string, Uint8Array | string, string][] = [
      ["random", randomBytes(300), "MALFORMED"],
      ["truncated", pem.slice(0, pem.length - 40), "MALFORMED"],
      ["bad base64", pem.replace(/\n[A-Za-z0-9+/]{10}/, "\n!!!!!!!!!!"), "MALFORMED"],
      ["body cut short", pem.replace(/\n[A-Za-z0-9+/=]+\n-----END/, "\n-----END"), "MALFORMED"],
      ["empty", new Uint8Array(0), "MALFORMED"],
      ["text", "hello, this is not a key", "MALFORMED"],
      ["huge", new Uint8Array(MAX_OBJECT_BYTES + 1), "TOO_LARGE"],
      ["trailing garbage DER", Buffer.concat([pkcs8Der(ec), Buffer.from([0, 0])]), "MALFORMED"],
      ["unknown PEM label", encodePem("SOMETHING ELSE", randomBytes(20)), "MALFORMED"],
    ];
    for (const [name, input, code] of cases) {
      const err = await rejection(readPrivateKey(input, { password: PASSWORD }));
      expect({ name, code: err.code }).toEqual({ name, code });
    }
  });

  it("does not block the event loop while deriving the key", async () => {
    const der = await encryptPrivateKey(ec, PASSWORD, { iterations: 400_000 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await readPrivateKey(der, { password: PASSWORD });
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(5);
  });
});

describe("inspectPrivateKey", () => {
  it("shows the scheme of an encrypted key without a password and the algorithm of a plain one", async () => {
    const enc = await encryptPrivateKeyPem(rsa, PASSWORD, { iterations: 5000, prf: "hmacWithSHA384", cipher: "aes-128-cbc" });
    expect(inspectPrivateKey(enc)).toEqual({
      format: "pkcs8-encrypted",
      container: "pem",
      encrypted: true,
      encryption: {
        scheme: "PBES2",
        kdf: "PBKDF2",
        prf: "hmacWithSHA384",
        prfHasNullParameters: false,
        cipher: "aes-128-cbc",
        iterations: 5000,
        saltBytes: 16,
      },
      supported: true,
    });
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
    expect(inspectPrivateKey(p384.export({ type: "pkcs8", format: "der" }))).toEqual({
      format: "pkcs8",
      container: "der",
      encrypted: false,
      description: { type: "ec", curve: "P-384", algorithm: undefined, ksefAccepted: false },
      supported: true,
    });
  });
});

describe("interop with node:crypto", () => {
  it("node's createPrivateKey({passphrase}) reads what we write, and we read node's own export", async () => {
    const pem = await encryptPrivateKeyPem(rsa, PASSWORD, { iterations: 3000 });
    expect(pkcs8Der(createPrivateKey({ key: pem, passphrase: PASSWORD })).equals(pkcs8Der(rsa))).toBe(true);
    const nodePem = ec.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: PASSWORD });
    const info = await readPrivateKey(nodePem, { password: PASSWORD });
    expect(pkcs8Der(info.key).equals(pkcs8Der(ec))).toBe(true);
    expect(info.encryption).toMatchObject({ iterations: 2048, saltBytes: 8 });
  });
});

describe("isKsefKeyEncryption", () => {
  it("is true for our default output and false for any parameter off the web app's layout", async () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const ours = inspectPrivateKey(await encryptPrivateKeyPem(privateKey, "Haslo-Testowe-2026!")).encryption;
    expect(isKsefKeyEncryption(ours)).toBe(true);
    const fewer = inspectPrivateKey(await encryptPrivateKeyPem(privateKey, "Haslo-Testowe-2026!", { iterations: 2048 })).encryption;
    expect(isKsefKeyEncryption(fewer)).toBe(false);
    const shortSalt = inspectPrivateKey(await encryptPrivateKeyPem(privateKey, "Haslo-Testowe-2026!", { saltBytes: 8 })).encryption;
    expect(isKsefKeyEncryption(shortSalt)).toBe(false);
    expect(isKsefKeyEncryption(ours && { ...ours, prfHasNullParameters: true })).toBe(false);
    expect(isKsefKeyEncryption(undefined)).toBe(false);
  });
});
