import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asn1parse, type Asn1Line, OpensslDir } from "./__fixtures__/openssl.js";
import { createCsr, parseCsr } from "./csr.js";
import { encodePem } from "./encoding.js";
import { generateKeyPair, type KeyPair } from "./keys.js";
import type { EnrollmentData } from "./types.js";
import { rejection, thrown } from "../testing/errors.js";

const DATA: EnrollmentData = {
  commonName: "Zażółć Gęślą Jaźń Sp. z o.o.",
  surname: "Świętochowski-Żółkiewska",
  givenName: "Łukasz",
  organizationName: "Zażółć Gęślą Jaźń Sp. z o.o.",
  organizationIdentifier: "VATPL-5265877635",
  countryName: "PL",
  serialNumber: "PNOPL-44051401458",
  uniqueIdentifier: "c0a8f4e2-7b1d-4c3e-9f60-1a2b3c4d5e6f",
};

/** What the subject must be, in the C# client's order, with the string types KSeF expects. */
const EXPECTED_SUBJECT = [
  { oid: "2.5.4.3", name: "CN", value: DATA.commonName, stringType: "UTF8String" },
  { oid: "2.5.4.4", name: "SN", value: DATA.surname, stringType: "UTF8String" },
  { oid: "2.5.4.42", name: "G", value: DATA.givenName, stringType: "UTF8String" },
  { oid: "2.5.4.10", name: "O", value: DATA.organizationName, stringType: "UTF8String" },
  { oid: "2.5.4.97", name: "organizationIdentifier", value: DATA.organizationIdentifier, stringType: "UTF8String" },
  { oid: "2.5.4.6", name: "C", value: DATA.countryName, stringType: "PrintableString" },
  { oid: "2.5.4.5", name: "serialNumber", value: DATA.serialNumber, stringType: "PrintableString" },
  { oid: "2.5.4.45", name: "uniqueIdentifier", value: DATA.uniqueIdentifier, stringType: "UTF8String" },
];

/** OpenSSL's long names for the same attributes, in the same order. */
const OPENSSL_NAMES = [
  "commonName",
  "surname",
  "givenName",
  "organizationName",
  "organizationIdentifier",
  "countryName",
  "serialNumber",
  "x500UniqueIdentifier",
];

let dir: OpensslDir;
let ec: KeyPair;
let rsa: KeyPair;

/** The string type openssl reports for each subject attribute, by OpenSSL long name, in order. */
function subjectTypes(lines: readonly Asn1Line[]): { name: string; type: string }[] {
  const out: { name: string; type: string }[] = [];
  lines.forEach((line, i) => {
    if (line.type === "OBJECT" && OPENSSL_NAMES.includes(line.value)) out.push({ name: line.value, type: lines[i + 1]?.type ?? "" });
  });
  return out;
}

/** The signature AlgorithmIdentifier at depth 1: its SEQUENCE line, OID line and whatever follows the OID. */
function outerSignatureAlgorithm(lines: readonly Asn1Line[]): { sequence: Asn1Line | undefined; oid: Asn1Line | undefined; next: Asn1Line | undefined } {
  const index = lines.findIndex((l, i) => l.depth === 1 && l.type === "SEQUENCE" && i > 1);
  return { sequence: lines[index], oid: lines[index + 1], next: lines[index + 2] };
}

beforeAll(async () => {
  dir = new OpensslDir();
  ec = await generateKeyPair("EC-P256");
  rsa = await generateKeyPair("RSA-2048");
});

afterAll(() => {
  dir.cleanup();
});

describe("createCsr (EC P-256)", () => {
  let der: Uint8Array;
  beforeAll(async () => {
    der = await createCsr(DATA, ec);
    dir.write("ec.csr.der", der);
  });

  it("is accepted by openssl req -verify", () => {
    expect(dir.runBoth(["req", "-inform", "DER", "-in", "ec.csr.der", "-verify", "-noout"])).toMatch(/verify OK/);
  });

  it("carries the exact subject with Polish letters, in the C# client's order (openssl req -subject)", () => {
    const out = dir.run(["req", "-inform", "DER", "-in", "ec.csr.der", "-noout", "-subject", "-nameopt", "utf8,sep_multiline,lname"]).toString("utf8");
    const lines = out
      .split("\n")
      .slice(1)
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
    expect(lines).toEqual(OPENSSL_NAMES.map((n, i) => `${n}=${String(EXPECTED_SUBJECT[i]?.value)}`));
  });

  it("encodes UTF8String for text attributes, PrintableString for C and serialNumber, and ecdsa-with-SHA256 without NULL (openssl asn1parse)", () => {
    const lines = asn1parse(dir, der);
    expect(subjectTypes(lines)).toEqual([
      { name: "commonName", type: "UTF8STRING" },
      { name: "surname", type: "UTF8STRING" },
      { name: "givenName", type: "UTF8STRING" },
      { name: "organizationName", type: "UTF8STRING" },
      { name: "organizationIdentifier", type: "UTF8STRING" },
      { name: "countryName", type: "PRINTABLESTRING" },
      { name: "serialNumber", type: "PRINTABLESTRING" },
      { name: "x500UniqueIdentifier", type: "UTF8STRING" },
    ]);
    const alg = outerSignatureAlgorithm(lines);
    expect(alg.oid?.value).toBe("ecdsa-with-SHA256");
    expect(alg.sequence?.length).toBe(10); // the OID alone: 06 08 <8 bytes>
    expect(alg.next?.type).toBe("BIT STRING");
    expect(alg.next?.depth).toBe(1);
  });

  it("reads back byte-exact with a valid signature (parseCsr)", () => {
    const info = parseCsr(der);
    expect(info.subject).toEqual(EXPECTED_SUBJECT);
    expect(info.signatureValid).toBe(true);
    expect(info.signatureAlgorithm).toBe("ecdsa-with-SHA256");
    expect(info.signatureAlgorithmHasNullParameters).toBe(false);
    expect(info.keyDescription).toMatchObject({ algorithm: "EC-P256", ksefAccepted: true });
    expect(info.publicKey.export({ type: "spki", format: "der" }).equals(ec.publicKey.export({ type: "spki", format: "der" }))).toBe(true);
    expect(info.subjectText).toBe(
      "CN=Zażółć Gęślą Jaźń Sp. z o.o., SN=Świętochowski-Żółkiewska, G=Łukasz, O=Zażółć Gęślą Jaźń Sp. z o.o., organizationIdentifier=VATPL-5265877635, C=PL, serialNumber=PNOPL-44051401458, uniqueIdentifier=c0a8f4e2-7b1d-4c3e-9f60-1a2b3c4d5e6f",
    );
  });

  it("reads the same CSR from PEM with either label", () => {
    expect(parseCsr(encodePem("CERTIFICATE REQUEST", der)).subject).toEqual(EXPECTED_SUBJECT);
    expect(parseCsr(encodePem("NEW CERTIFICATE REQUEST", der)).signatureValid).toBe(true);
  });

  it("reports a tampered CSR as signatureValid false", () => {
    const tampered = Uint8Array.from(der);
    const at = Buffer.from(tampered).indexOf(Buffer.from("Sp. z o.o."));
    expect(at).toBeGreaterThan(0);
    tampered[at] = "T".charCodeAt(0);
    const info = parseCsr(tampered);
    expect(info.subject[0]?.value).toBe("Zażółć Gęślą Jaźń Tp. z o.o.");
    expect(info.signatureValid).toBe(false);
    dir.write("tampered.csr.der", tampered);
    // OpenSSL 3.0 exits 0 here but reports the failure.
    expect(dir.runBoth(["req", "-inform", "DER", "-in", "tampered.csr.der", "-verify", "-noout"])).toMatch(/verify failure/);
  });
});

describe("createCsr (RSA-2048)", () => {
  it("is accepted by openssl and uses sha256WithRSAEncryption with NULL parameters", async () => {
    const der = await createCsr(DATA, rsa);
    dir.write("rsa.csr.der", der);
    expect(dir.runBoth(["req", "-inform", "DER", "-in", "rsa.csr.der", "-verify", "-noout"])).toMatch(/verify OK/);
    const alg = outerSignatureAlgorithm(asn1parse(dir, der));
    expect(alg.oid?.value).toBe("sha256WithRSAEncryption");
    expect(alg.next?.type).toBe("NULL");
    const info = parseCsr(der);
    expect(info.subject).toEqual(EXPECTED_SUBJECT);
    expect(info.signatureValid).toBe(true);
    expect(info.signatureAlgorithmHasNullParameters).toBe(true);
    expect(info.keyDescription).toMatchObject({ algorithm: "RSA-2048" });
  });
});

describe("createCsr subject rules", () => {
  it("passes a 150-character CN through byte-exact (no X.520 cap)", async () => {
    const commonName = "Przedsiębiorstwo Handlowo-Usługowe Żółw ".repeat(4).slice(0, 150);
    expect(commonName.length).toBe(150);
    const der = await createCsr({ commonName, countryName: "PL" }, ec);
    dir.write("long.csr.der", der);
    // OpenSSL 3.0 prints and verifies it (it only refuses >64 when *building* a name from a config).
    expect(dir.runBoth(["req", "-inform", "DER", "-in", "long.csr.der", "-verify", "-noout"])).toMatch(/verify OK/);
    const lines = asn1parse(dir, der);
    const cn = lines[lines.findIndex((l) => l.value === "commonName") + 1];
    expect(cn?.type).toBe("UTF8STRING");
    expect(cn?.length).toBe(Buffer.byteLength(commonName, "utf8"));
    expect(cn?.value).toBe(commonName);
    const info = parseCsr(der);
    expect(info.subject.map((a) => a.value)).toEqual([commonName, "PL"]);
    expect(info.signatureValid).toBe(true);
  });

  it("keeps leading/trailing spaces and skips absent, null and empty optional values", async () => {
    const der = await createCsr({ commonName: "  Jan  Kowalski ", countryName: "PL", givenName: null, surname: "", organizationName: " " }, ec);
    expect(parseCsr(der).subject.map((a) => [a.name, a.value])).toEqual([
      ["CN", "  Jan  Kowalski "],
      ["O", " "],
      ["C", "PL"],
    ]);
  });

  it("refuses blank commonName and countryName, and non-PrintableString C and serialNumber, naming every field", async () => {
    const err = await rejection(createCsr({ commonName: " \t", countryName: "", serialNumber: "PNOPL-4405140145ą" }, ec));
    expect(err.code).toBe("VALIDATION");
    expect(err.violations.map((v) => [v.field, v.rule])).toEqual([
      ["commonName", "csr.subject.required"],
      ["countryName", "csr.subject.required"],
      ["serialNumber", "csr.subject.printableString"],
    ]);
    const c = await rejection(createCsr({ commonName: "Jan", countryName: "PŁ" }, ec));
    expect(c.violations.map((v) => v.field)).toEqual(["countryName"]);
    expect(c.message).toContain("countryName");
  });

  it("refuses text that is not well-formed Unicode instead of mis-encoding it", async () => {
    const err = await rejection(createCsr({ commonName: "Jan \uD800 Kowalski", countryName: "PL" }, ec));
    expect(err.violations.map((v) => [v.field, v.rule])).toEqual([["commonName", "csr.subject.unicode"]]);
  });
});

describe("createCsr key checks", () => {
  it("refuses a P-384 key as UNSUPPORTED naming the curve", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
    const err = await rejection(createCsr(DATA, { privateKey, publicKey }));
    expect(err.code).toBe("UNSUPPORTED");
    expect(err.message).toContain("P-384");
  });

  it("refuses an RSA-3072 key as UNSUPPORTED naming its size", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 3072 });
    const err = await rejection(createCsr(DATA, { privateKey, publicKey }));
    expect(err.code).toBe("UNSUPPORTED");
    expect(err.message).toContain("RSA-3072");
  });

  it("refuses a public key from another pair as KEY_MISMATCH", async () => {
    const other = await generateKeyPair("EC-P256");
    const err = await rejection(createCsr(DATA, { privateKey: ec.privateKey, publicKey: other.publicKey }));
    expect(err.code).toBe("KEY_MISMATCH");
  });
});

describe("parseCsr", () => {
  it("reads CSRs made by openssl, including RSA-PSS (the C# client's default)", () => {
    dir.write("o.key", rsa.privateKey.export({ type: "pkcs8", format: "pem" }));
    dir.run(["req", "-new", "-key", "o.key", "-subj", "/CN=Jan Kowalski/C=PL", "-out", "pkcs1.csr"]);
    dir.run([
      "req",
      "-new",
      "-key",
      "o.key",
      "-subj",
      "/CN=Jan Kowalski/C=PL",
      "-sigopt",
      "rsa_padding_mode:pss",
      "-sigopt",
      "rsa_pss_saltlen:32",
      "-out",
      "pss.csr",
    ]);
    const plain = parseCsr(dir.read("pkcs1.csr").toString());
    expect(plain.signatureAlgorithm).toBe("sha256WithRSAEncryption");
    expect(plain.signatureValid).toBe(true);
    expect(plain.subject.map((a) => [a.name, a.value, a.stringType])).toEqual([
      ["CN", "Jan Kowalski", "UTF8String"],
      ["C", "PL", "PrintableString"],
    ]);
    const pss = parseCsr(dir.read("pss.csr"));
    expect(pss.signatureAlgorithm).toBe("RSASSA-PSS");
    expect(pss.signatureValid).toBe(true);
  });

  it("says what a non-CSR file is", () => {
    dir.run(["req", "-new", "-x509", "-key", "o.key", "-subj", "/CN=x", "-days", "1", "-out", "cert.pem"]);
    const cert = thrown(() => parseCsr(dir.read("cert.pem")));
    expect(cert.code).toBe("MALFORMED");
    expect(cert.message).toBe("This is a certificate, not a certificate signing request (CSR).");
    const certDer = dir.run(["x509", "-in", "cert.pem", "-outform", "DER"]);
    expect(thrown(() => parseCsr(certDer)).details.detected).toBe("certificate");
    const key = thrown(() => parseCsr(ec.privateKey.export({ type: "pkcs8", format: "pem" })));
    expect(key.message).toBe("This is a private key, not a certificate signing request (CSR).");
    const encrypted = thrown(() => parseCsr(encodePem("ENCRYPTED PRIVATE KEY", new Uint8Array([0x30, 0]))));
    expect(encrypted.message).toContain("encrypted private key");
    expect(thrown(() => parseCsr("hello")).code).toBe("MALFORMED");
    expect(thrown(() => parseCsr(new Uint8Array(70 * 1024))).code).toBe("TOO_LARGE");
  });
});
