import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpensslDir } from "./__fixtures__/openssl.js";
import { type CertificateInfo, parseCertificate } from "./certificate.js";
import { generateKeyPair, type KeyPair } from "./keys.js";
import { assertKeyMatchesCertificate, keyMatchesCertificate } from "./pair.js";
import { readPrivateKeySync } from "./pkcs8.js";
import { issueKsefLikeCertificate } from "../testing/ksef-like-certificate.js";
import { thrown } from "../testing/errors.js";

let dir: OpensslDir;
let ec: KeyPair;
let otherEc: KeyPair;
let rsa: KeyPair;
let ecCert: CertificateInfo;
let rsaCert: CertificateInfo;

beforeAll(async () => {
  dir = new OpensslDir();
  [ec, otherEc, rsa] = await Promise.all([generateKeyPair("EC-P256"), generateKeyPair("EC-P256"), generateKeyPair("RSA-2048")]);
  const issued = await issueKsefLikeCertificate({
    certificateType: "Authentication",
    keys: ec,
    enrollmentData: { commonName: "Jan Kowalski", countryName: "PL", serialNumber: "TINPL-5265877635" },
  });
  ecCert = parseCertificate(issued.der);
  // The RSA certificate comes from openssl, so the comparison does not rely on our own writer.
  dir.write("rsa.key", rsa.privateKey.export({ type: "pkcs8", format: "pem" }));
  dir.run(["req", "-new", "-x509", "-key", "rsa.key", "-subj", "/CN=Jan Kowalski RSA", "-days", "1", "-out", "rsa.pem"]);
  rsaCert = parseCertificate(dir.read("rsa.pem"));
});

afterAll(() => {
  dir.cleanup();
});

describe("keyMatchesCertificate", () => {
  it("is true for the certificate's own key (EC and RSA), parsed or DER", () => {
    expect(keyMatchesCertificate(ec.privateKey, ecCert)).toBe(true);
    expect(keyMatchesCertificate(ec.privateKey, ecCert.der)).toBe(true);
    expect(keyMatchesCertificate(rsa.privateKey, rsaCert)).toBe(true);
    expect(() => {
      assertKeyMatchesCertificate(ec.privateKey, ecCert);
    }).not.toThrow();
  });

  it("is true for the same key read back from the PEM file openssl got", () => {
    const key = readPrivateKeySync(dir.read("rsa.key")).key;
    expect(keyMatchesCertificate(key, rsaCert.der)).toBe(true);
  });

  it("is true for a certificate that carries its EC point compressed (openssl -conv_form compressed)", () => {
    dir.write("ec.key", ec.privateKey.export({ type: "pkcs8", format: "pem" }));
    dir.run(["ec", "-in", "ec.key", "-conv_form", "compressed", "-out", "ec-compressed.key"]);
    dir.run(["req", "-new", "-x509", "-key", "ec-compressed.key", "-subj", "/CN=Jan Kowalski compressed", "-days", "1", "-out", "ec-compressed.pem"]);
    const compressed = parseCertificate(dir.read("ec-compressed.pem"));
    // 0x02/0x03 prefix: the SPKI bytes differ from the private key's (uncompressed) public half.
    expect(compressed.subjectPublicKeyInfo.length).toBe(59);
    expect(keyMatchesCertificate(ec.privateKey, compressed)).toBe(true);
    expect(keyMatchesCertificate(otherEc.privateKey, compressed)).toBe(false);
  });

  it("is false for another EC key and for a key of another type", () => {
    expect(keyMatchesCertificate(otherEc.privateKey, ecCert)).toBe(false);
    expect(keyMatchesCertificate(ec.privateKey, rsaCert)).toBe(false);
    expect(keyMatchesCertificate(rsa.privateKey, ecCert)).toBe(false);
  });

  it("refuses DER that is not a certificate as MALFORMED", () => {
    expect(thrown(() => keyMatchesCertificate(ec.privateKey, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]))).code).toBe("MALFORMED");
  });
});

describe("assertKeyMatchesCertificate", () => {
  it("throws KEY_MISMATCH naming the certificate (CN and serial) with the KSeF hint", () => {
    const err = thrown(() => {
      assertKeyMatchesCertificate(otherEc.privateKey, ecCert.der);
    });
    expect(err.code).toBe("KEY_MISMATCH");
    expect(err.message).toContain('"Jan Kowalski (uwierzytelnienie)"');
    expect(err.message).toContain(ecCert.serialNumber);
    expect(err.hint).toContain("pick the .key downloaded together with this .crt");
    expect(err.details).toEqual({ certificateSerialNumber: ecCert.serialNumber, commonName: "Jan Kowalski (uwierzytelnienie)" });
  });

  it("throws KEY_MISMATCH for an EC key against an RSA certificate", () => {
    expect(
      thrown(() => {
        assertKeyMatchesCertificate(ec.privateKey, rsaCert);
      }).code,
    ).toBe("KEY_MISMATCH");
  });
});
