import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asn1parse, OpensslDir } from "./__fixtures__/openssl.js";
import { isSignedBy, parseCertificate, parseCertificates } from "./certificate.js";
import { encodePem, toHexUpper } from "./encoding.js";
import { generateKeyPair, type KeyPair } from "./keys.js";
import { createTestCertificateAuthority, issueKsefLikeCertificate, testCertificateAuthority } from "../testing/ksef-like-certificate.js";
import type { EnrollmentData } from "./types.js";
import { thrown } from "../testing/errors.js";

const SEAL: EnrollmentData = {
  commonName: "Zażółć Gęślą Jaźń Sp. z o.o.",
  countryName: "PL",
  organizationName: "Zażółć Gęślą Jaźń Sp. z o.o.",
  organizationIdentifier: "VATPL-5265877635",
};
const PERSON: EnrollmentData = {
  commonName: "Łukasz Świętochowski-Żółkiewska",
  countryName: "PL",
  givenName: "Łukasz",
  surname: "Świętochowski-Żółkiewska",
  serialNumber: "PNOPL-44051401458",
};

/** `openssl x509 -nameopt` giving our one-line form: certificate order, RFC 2253 escaping, UTF-8, `,` separators, short names. */
const NAMEOPT = "esc_2253,esc_ctrl,utf8,dump_nostr,dump_unknown,dump_der,sep_comma_plus_space,sname";

let dir: OpensslDir;
let ec: KeyPair;

/** `openssl verify` at this process's clock, the one the test CA and the certificates take their validity from. */
function verify(...args: string[]): Buffer {
  return dir.run(["verify", "-attime", String(Math.floor(Date.now() / 1000)), ...args]);
}

/** `openssl x509 -noout -serial -fingerprint -sha256 -dates -subject` as a record. */
function opensslFacts(file: string): { serial: string; fingerprint: string; notBefore: string; notAfter: string; subject: string } {
  const out = dir.run(["x509", "-in", file, "-noout", "-serial", "-fingerprint", "-sha256", "-dates", "-subject", "-nameopt", NAMEOPT]).toString("utf8");
  const field = (re: RegExp): string => re.exec(out)?.[1]?.trim() ?? "";
  return {
    serial: field(/^serial=(.*)$/m),
    fingerprint: field(/^sha256 Fingerprint=(.*)$/m).replaceAll(":", ""),
    notBefore: new Date(field(/^notBefore=(.*)$/m)).toISOString(),
    notAfter: new Date(field(/^notAfter=(.*)$/m)).toISOString(),
    subject: field(/^subject=(.*)$/m),
  };
}

beforeAll(async () => {
  dir = new OpensslDir();
  ec = await generateKeyPair("EC-P256");
});

afterAll(() => {
  dir.cleanup();
});

describe("parseCertificate on openssl certificates", () => {
  for (const [kind, keygen] of [
    ["EC", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec.key"]],
    ["RSA", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.key"]],
  ] as const) {
    it(`agrees with openssl x509 on serial, fingerprint, dates and subject (${kind})`, () => {
      const key = kind === "EC" ? "ec.key" : "rsa.key";
      dir.run(keygen);
      // 10 000 days: notAfter lies after 2049, so it is a GeneralizedTime while notBefore is a UTCTime.
      dir.run([
        "req",
        "-new",
        "-x509",
        "-utf8",
        "-key",
        key,
        "-subj",
        "/C=PL/ST=mazowieckie/L=Warszawa/O=Firma\\, Sp. z o.o./OU=IT/CN=Zażółć <test>",
        "-days",
        "10000",
        "-out",
        `${kind}.pem`,
      ]);
      const info = parseCertificate(dir.read(`${kind}.pem`));
      const facts = opensslFacts(`${kind}.pem`);
      expect(info.serialNumber).toBe(facts.serial);
      expect(info.fingerprintSha256).toBe(facts.fingerprint);
      expect(info.validFrom).toBe(facts.notBefore);
      expect(info.validTo).toBe(facts.notAfter);
      expect(info.subjectText).toBe(facts.subject);
      expect(info.subjectText).toBe("C=PL, ST=mazowieckie, L=Warszawa, O=Firma\\, Sp. z o.o., OU=IT, CN=Zażółć \\<test\\>");
      expect(info.commonName).toBe("Zażółć <test>");
      expect(info.selfSigned).toBe(true);
      expect(info.subjectIdentifier).toEqual({ type: "Fingerprint", value: facts.fingerprint });
      expect(info.signatureAlgorithm).toBe(kind === "EC" ? "ecdsa-with-SHA256" : "sha256WithRSAEncryption");
      expect(info.signatureAlgorithmHasNullParameters).toBe(kind === "RSA");
      expect(info.keyDescription.algorithm).toBe(kind === "EC" ? "EC-P256" : "RSA-2048");
      const types = asn1parse(dir, info.der)
        .filter((l) => l.type === "UTCTIME" || l.type === "GENERALIZEDTIME")
        .map((l) => l.type);
      expect(types).toEqual(["UTCTIME", "GENERALIZEDTIME"]);
    });
  }

  it("writes serials as openssl does: a 00 sign byte dropped, even length kept", () => {
    for (const [serial, expected] of [
      ["0x8000000000000001", "8000000000000001"],
      ["0x012E76A6111F788E", "012E76A6111F788E"],
      ["1", "01"],
    ] as const) {
      dir.run(["req", "-new", "-x509", "-key", "ec.key", "-subj", "/CN=serial", "-set_serial", serial, "-days", "1", "-out", "serial.pem"]);
      expect(parseCertificate(dir.read("serial.pem")).serialNumber).toBe(expected);
      expect(opensslFacts("serial.pem").serial).toBe(expected);
    }
  });

  it("reads DER, X509 CERTIFICATE and TRUSTED CERTIFICATE files to the same certificate", () => {
    const pem = dir.read("EC.pem").toString();
    const reference = parseCertificate(pem);
    const der = dir.run(["x509", "-in", "EC.pem", "-outform", "DER"]);
    expect(parseCertificate(der).fingerprintSha256).toBe(reference.fingerprintSha256);
    expect(parseCertificate(encodePem("X509 CERTIFICATE", der)).fingerprintSha256).toBe(reference.fingerprintSha256);
    const trusted = dir.run(["x509", "-in", "EC.pem", "-trustout", "-addtrust", "clientAuth"]).toString();
    expect(trusted).toContain("BEGIN TRUSTED CERTIFICATE");
    expect(parseCertificate(trusted).fingerprintSha256).toBe(reference.fingerprintSha256);
  });

  it("reads chains in file order with parseCertificates (parseCertificate takes the first)", () => {
    const chain = `${dir.read("RSA.pem").toString()}${dir.read("EC.pem").toString()}`;
    expect(parseCertificates(chain).map((c) => c.signatureAlgorithm)).toEqual(["sha256WithRSAEncryption", "ecdsa-with-SHA256"]);
    expect(parseCertificate(chain).signatureAlgorithm).toBe("sha256WithRSAEncryption");
  });
});

describe("parseCertificate on KSeF-like certificates", () => {
  it("reads an Authentication certificate: 16-hex serial, NULL parameters, reordered subject, type from keyUsage and CN", async () => {
    // Issued a month ago, valid for KSeF's two years: still valid now, whatever the date.
    const validFrom = new Date(Math.floor(Date.now() / 1000) * 1000 - 30 * 86_400_000);
    const validTo = new Date(validFrom.getTime() + 730 * 86_400_000).toISOString();
    const issued = await issueKsefLikeCertificate({ certificateType: "Authentication", keys: ec, enrollmentData: SEAL, validFrom });
    const info = parseCertificate(issued.certificate);
    dir.write("auth.pem", issued.certificate);
    dir.write("ca.pem", issued.issuerCertificate);
    const facts = opensslFacts("auth.pem");
    expect(info.serialNumber).toMatch(/^[0-9A-F]{16}$/);
    expect(info.serialNumber).toBe(facts.serial);
    expect(info.fingerprintSha256).toBe(facts.fingerprint);
    expect(info.validFrom).toBe(validFrom.toISOString());
    expect(info.validTo).toBe(validTo);
    expect(facts.notAfter).toBe(validTo);
    expect(info.subject.map((a) => [a.name, a.value, a.stringType])).toEqual([
      ["C", "PL", "PrintableString"],
      ["organizationIdentifier", "VATPL-5265877635", "UTF8String"],
      ["O", "Zażółć Gęślą Jaźń Sp. z o.o.", "UTF8String"],
      ["CN", "Zażółć Gęślą Jaźń Sp. z o.o. (uwierzytelnienie)", "UTF8String"],
    ]);
    expect(info.issuerText).toBe("C=PL, O=Ministerstwo Finansów, OU=Krajowa Administracja Skarbowa, CN=TEST CCK KSeF");
    expect(info.commonName).toBe("Zażółć Gęślą Jaźń Sp. z o.o. (uwierzytelnienie)");
    expect(info.keyUsage).toEqual(["digitalSignature"]);
    expect(info.ksefType).toBe("Authentication");
    expect(info.typeCheck).toEqual({ fromKeyUsage: "Authentication", fromCommonName: "Authentication", consistent: true });
    expect(info.signatureAlgorithm).toBe("ecdsa-with-SHA256");
    expect(info.signatureAlgorithmHasNullParameters).toBe(true);
    expect(info.selfSigned).toBe(false);
    expect(info.subjectIdentifier).toEqual({ type: "Nip", value: "5265877635" });
    expect(info.publicKey.export({ type: "spki", format: "der" }).equals(ec.publicKey.export({ type: "spki", format: "der" }))).toBe(true);
    // The fixture really carries the NULL, as real KSeF certificates do.
    const lines = asn1parse(dir, info.der);
    const sigOid = lines.findLastIndex((l) => l.value === "ecdsa-with-SHA256");
    expect(lines[sigOid + 1]?.type).toBe("NULL");
  });

  it("is accepted by openssl (x509 -text, verify -CAfile) and signed by the test CA", async () => {
    const text = dir.run(["x509", "-in", "auth.pem", "-noout", "-text"]).toString("utf8");
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature/);
    expect(verify("-CAfile", "ca.pem", "auth.pem").toString()).toContain("auth.pem: OK");
    const ca = parseCertificate(dir.read("ca.pem"));
    expect(ca.selfSigned).toBe(true);
    expect(ca.signatureAlgorithmHasNullParameters).toBe(true);
    expect(isSignedBy(parseCertificate(dir.read("auth.pem")), ca)).toBe(true);
    const other = await createTestCertificateAuthority({ commonName: "Another CA" });
    dir.write("other-ca.pem", other.certificate);
    expect(isSignedBy(parseCertificate(dir.read("auth.pem")), parseCertificate(other.certificate))).toBe(false);
    expect(() => verify("-CAfile", "other-ca.pem", "auth.pem")).toThrow();
    expect((await testCertificateAuthority()).certificate).toBe(dir.read("ca.pem").toString());
  });

  it("reads an Offline certificate for a person: nonRepudiation, ' (offline)', PESEL", async () => {
    const issued = await issueKsefLikeCertificate({ certificateType: "Offline", keys: ec, enrollmentData: PERSON });
    const info = parseCertificate(issued.der);
    expect(info.keyUsage).toEqual(["nonRepudiation"]);
    expect(info.ksefType).toBe("Offline");
    expect(info.typeCheck).toEqual({ fromKeyUsage: "Offline", fromCommonName: "Offline", consistent: true });
    expect(info.commonName).toBe("Łukasz Świętochowski-Żółkiewska (offline)");
    expect(info.subjectIdentifier).toEqual({ type: "Pesel", value: "44051401458" });
    dir.write("offline.pem", issued.certificate);
    expect(dir.run(["x509", "-in", "offline.pem", "-noout", "-text"]).toString()).toMatch(/X509v3 Key Usage: critical\s+Non Repudiation/);
    expect(verify("-CAfile", "ca.pem", "offline.pem").toString()).toContain("OK");
  });

  it("flags a certificate whose keyUsage and CN suffix disagree", async () => {
    const issued = await issueKsefLikeCertificate({ certificateType: "Authentication", keys: ec, enrollmentData: SEAL, overrides: { keyUsage: "Offline" } });
    const info = parseCertificate(issued.der);
    expect(info.commonName).toMatch(/ \(uwierzytelnienie\)$/);
    expect(info.ksefType).toBe("Offline");
    expect(info.typeCheck).toEqual({ fromKeyUsage: "Offline", fromCommonName: "Authentication", consistent: false });
    const both = parseCertificate(
      (await issueKsefLikeCertificate({ certificateType: "Offline", keys: ec, enrollmentData: SEAL, overrides: { keyUsage: "both" } })).der,
    );
    expect(both.keyUsage).toEqual(["digitalSignature", "nonRepudiation"]);
    expect(both.ksefType).toBeUndefined();
    expect(both.typeCheck.consistent).toBe(false);
  });

  it("reads the older ecdsa-with-SHA512 + NULL style", async () => {
    const issued = await issueKsefLikeCertificate({
      certificateType: "Authentication",
      keys: ec,
      enrollmentData: SEAL,
      overrides: { signatureHash: "sha512" },
    });
    const info = parseCertificate(issued.der);
    expect(info.signatureAlgorithm).toBe("ecdsa-with-SHA512");
    expect(info.signatureAlgorithmHasNullParameters).toBe(true);
    expect(isSignedBy(info, await testCertificateAuthority().then((ca) => parseCertificate(ca.der)))).toBe(true);
  });

  describe("subject identifier (ksef-docs `uwierzytelnianie.md`)", () => {
    const cases: [string, EnrollmentData, { type: string; value?: string }][] = [
      [
        "NIP from serialNumber TINPL",
        { commonName: "Jan Kowalski", countryName: "PL", serialNumber: "TINPL-5265877635" },
        { type: "Nip", value: "5265877635" },
      ],
      ["NIP from serialNumber NIP-", { commonName: "Jan Kowalski", countryName: "PL", serialNumber: "NIP-5265877635" }, { type: "Nip", value: "5265877635" }],
      [
        "PESEL from serialNumber PESEL:",
        { commonName: "Jan Kowalski", countryName: "PL", serialNumber: "PESEL: 44051401458" },
        { type: "Pesel", value: "44051401458" },
      ],
      ["PESEL wins over organizationIdentifier", { ...PERSON, organizationIdentifier: "VATPL-5265877635" }, { type: "Pesel", value: "44051401458" }],
      ["NIP from organizationIdentifier VATPL", SEAL, { type: "Nip", value: "5265877635" }],
      [
        "fingerprint when there is no Polish identifier",
        { commonName: "Hans Müller", countryName: "DE", serialNumber: "IDCDE-T22000129" },
        { type: "Fingerprint" },
      ],
      [
        "fingerprint for a foreign VAT number",
        { commonName: "Firma GmbH", countryName: "DE", organizationIdentifier: "VATDE-123456789" },
        { type: "Fingerprint" },
      ],
    ];
    for (const [name, data, expected] of cases) {
      it(name, async () => {
        const info = parseCertificate((await issueKsefLikeCertificate({ certificateType: "Authentication", keys: ec, enrollmentData: data })).der);
        const value = expected.value ?? toHexUpper(createHash("sha256").update(info.der).digest());
        expect(info.subjectIdentifier).toEqual({ type: expected.type, value });
        if (expected.type === "Fingerprint") expect(value).toMatch(/^[0-9A-F]{64}$/);
      });
    }
  });

  it("writes UTCTime before 2050 and GeneralizedTime from 2050 and reads both", async () => {
    const issued = await issueKsefLikeCertificate({
      certificateType: "Offline",
      keys: ec,
      enrollmentData: SEAL,
      validFrom: new Date("2049-06-30T23:59:59.999Z"),
    });
    const info = parseCertificate(issued.der);
    expect(info.validFrom).toBe("2049-06-30T23:59:59.000Z");
    expect(info.validTo).toBe("2051-06-30T23:59:59.000Z");
    expect(
      asn1parse(dir, issued.der)
        .filter((l) => l.type.endsWith("TIME"))
        .map((l) => [l.type, l.value]),
    ).toEqual([
      ["UTCTIME", "490630235959Z"],
      ["GENERALIZEDTIME", "20510630235959Z"],
    ]);
  });
});

describe("parseCertificate on other files", () => {
  it("says what the file is instead", async () => {
    const key = thrown(() => parseCertificate(ec.privateKey.export({ type: "pkcs8", format: "pem" })));
    expect(key.code).toBe("MALFORMED");
    expect(key.message).toBe("This is a private key, not a certificate.");
    expect(thrown(() => parseCertificate(ec.privateKey.export({ type: "pkcs8", format: "der" }))).details.detected).toBe("pkcs8");
    expect(thrown(() => parseCertificate(ec.privateKey.export({ type: "sec1", format: "der" }))).message).toBe("This is an EC private key, not a certificate.");
    expect(thrown(() => parseCertificate(ec.publicKey.export({ type: "spki", format: "pem" }))).message).toBe("This is a public key, not a certificate.");
    const { createCsr } = await import("./csr.js");
    const csr = await createCsr(SEAL, ec);
    expect(thrown(() => parseCertificate(csr)).message).toBe("This is a certificate signing request (CSR), not a certificate.");
    expect(thrown(() => parseCertificate(encodePem("CERTIFICATE REQUEST", csr))).message).toBe(
      "This is a certificate signing request (CSR), not a certificate.",
    );
    expect(thrown(() => parseCertificate("just some text")).message).toMatch(/not a certificate/);
    expect(thrown(() => parseCertificate(encodePem("SOMETHING", new Uint8Array([1, 2])))).message).toBe(
      'This file holds a PEM block "SOMETHING", not a certificate.',
    );
    expect(thrown(() => parseCertificate("")).code).toBe("MALFORMED");
    expect(thrown(() => parseCertificate(new Uint8Array(64 * 1024 + 1))).code).toBe("TOO_LARGE");
  });

  it("refuses a truncated certificate as MALFORMED", async () => {
    const issued = await issueKsefLikeCertificate({ certificateType: "Authentication", keys: ec, enrollmentData: SEAL });
    expect(thrown(() => parseCertificate(issued.der.subarray(0, issued.der.length - 5))).code).toBe("MALFORMED");
    const lines = issued.certificate.trimEnd().split("\n");
    expect(thrown(() => parseCertificate(lines.slice(0, -3).join("\n"))).code).toBe("MALFORMED");
  });
});
