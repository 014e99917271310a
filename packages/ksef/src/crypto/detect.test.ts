import { generateKeyPairSync, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpensslDir } from "./__fixtures__/openssl.js";
import { detectFileKind } from "./detect.js";

const PASSWORD = "Detect-Test-Pw-2025!";

describe("detectFileKind", () => {
  let dir: OpensslDir;
  beforeAll(() => {
    dir = new OpensslDir();
    dir.write("pw.txt", `${PASSWORD}\n`);
    dir.run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "key.pem"]);
    dir.run(["req", "-new", "-x509", "-key", "key.pem", "-subj", "/CN=detect/C=PL", "-days", "2", "-out", "cert.pem"]);
    dir.run(["x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der"]);
    dir.run(["req", "-new", "-key", "key.pem", "-subj", "/CN=detect/C=PL", "-out", "csr.pem"]);
    dir.run(["req", "-in", "csr.pem", "-outform", "DER", "-out", "csr.der"]);
    dir.run(["pkcs8", "-topk8", "-in", "key.pem", "-v2", "aes-256-cbc", "-passout", "file:pw.txt", "-out", "enc.pem"]);
    dir.run(["pkcs8", "-topk8", "-in", "key.pem", "-v2", "aes-256-cbc", "-passout", "file:pw.txt", "-outform", "DER", "-out", "enc.der"]);
    dir.run(["pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER", "-out", "key.der"]);
    dir.run(["ec", "-in", "key.pem", "-out", "sec1.pem"]);
    dir.run(["ec", "-in", "key.pem", "-aes256", "-passout", "file:pw.txt", "-out", "legacy.pem"]);
    dir.run(["pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-passout", "file:pw.txt", "-out", "bundle.p12"]);
    dir.run(["pkcs12", "-in", "bundle.p12", "-passin", "file:pw.txt", "-nodes", "-out", "bundle.pem"]);
  });
  afterAll(() => {
    dir.cleanup();
  });

  it("tells certificates, keys, CSRs and PKCS#12 apart in PEM and DER, whatever the name", () => {
    const cases: [string, string, string][] = [
      ["cert.pem", "certificate", "pem"],
      ["cert.der", "certificate", "der"],
      ["csr.pem", "csr", "pem"],
      ["csr.der", "csr", "der"],
      ["enc.pem", "encrypted-private-key", "pem"],
      ["enc.der", "encrypted-private-key", "der"],
      ["key.pem", "private-key", "pem"],
      ["key.der", "private-key", "der"],
      ["sec1.pem", "private-key", "pem"],
      ["legacy.pem", "encrypted-private-key", "pem"],
      ["bundle.p12", "pkcs12", "der"],
    ];
    for (const [file, kind, container] of cases) {
      expect({ file, ...detectFileKind(dir.read(file)) }).toMatchObject({ file, kind, container });
    }
  });

  it("reports the first known block of openssl's text output with Bag Attributes", () => {
    const text = dir.read("bundle.pem");
    expect(text.toString("utf8")).toContain("Bag Attributes");
    const detected = detectFileKind(text);
    expect(["certificate", "private-key"]).toContain(detected.kind);
    expect(detected.container).toBe("pem");
  });

  it("reads PKCS#1 RSA keys in PEM and DER", () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    expect(detectFileKind(Buffer.from(privateKey.export({ type: "pkcs1", format: "pem" })))).toEqual({
      kind: "private-key",
      container: "pem",
      pemLabel: "RSA PRIVATE KEY",
    });
    expect(detectFileKind(privateKey.export({ type: "pkcs1", format: "der" }))).toEqual({ kind: "private-key", container: "der" });
    // A public key is not one of the kinds the CLI handles.
    expect(detectFileKind(Buffer.from(publicKey.export({ type: "spki", format: "pem" })))).toEqual({
      kind: "unknown",
      container: "pem",
      pemLabel: "PUBLIC KEY",
    });
    expect(detectFileKind(publicKey.export({ type: "spki", format: "der" }))).toEqual({ kind: "unknown", container: "der" });
  });

  it("never throws on garbage, empty or truncated input", () => {
    expect(detectFileKind(new Uint8Array(0))).toEqual({ kind: "unknown", container: "der" });
    expect(detectFileKind(new TextEncoder().encode("hello world\n"))).toEqual({ kind: "unknown", container: "der" });
    for (let i = 0; i < 200; i++) expect(() => detectFileKind(randomBytes(1 + (i % 64)))).not.toThrow();
    const der = dir.read("cert.der");
    expect(detectFileKind(der.subarray(0, der.length - 10)).kind).toBe("unknown");
    // A truncated PEM keeps its claimed kind; the certificate reader reports the damage.
    const pem = dir.read("cert.pem").toString("utf8");
    expect(detectFileKind(new TextEncoder().encode(pem.slice(0, 100))).kind).toBe("certificate");
  });
});
