/**
 * Test-only: signs an AuthTokenRequest with the real `xmlsec1` CLI on a hand-written XAdES-BES
 * template. Used where core's signer refuses on purpose (a KSeF Offline certificate), so the
 * simulator's own refusal can be tested with a genuinely signed document.
 */
import { encodePem, parseCertificate } from "@ksef-certs/ksef/crypto";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Credential } from "./harness.js";

const XADES = "http://uri.etsi.org/01903/v1.3.2#";
const EXC = "http://www.w3.org/2001/10/xml-exc-c14n#";
const SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256";

/**
 * Signs `<AuthTokenRequest>` (schema 2.0, context NIP 5265877635, certificateSubject) with xmlsec1.
 * @param challenge the challenge to put in
 * @param credential EC P-256 key and certificate
 * @returns the signed document bytes
 * @throws Error when xmlsec1 fails (stderr in the message)
 */
export function signWithXmlsec(challenge: string, credential: Credential): Uint8Array {
  const info = parseCertificate(credential.certificate);
  const certB64 = Buffer.from(credential.certificate).toString("base64");
  const certDigest = createHash("sha256").update(credential.certificate).digest("base64");
  const serialDecimal = BigInt(`0x${info.serialNumber}`).toString(10);
  const template =
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<AuthTokenRequest xmlns="http://ksef.mf.gov.pl/auth/token/2.0"><Challenge>${challenge}</Challenge><ContextIdentifier><Nip>5265877635</Nip></ContextIdentifier><SubjectIdentifierType>certificateSubject</SubjectIdentifierType>` +
    `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="Signature"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="${EXC}"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>` +
    `<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="${EXC}"/></ds:Transforms><ds:DigestMethod Algorithm="${SHA256}"/><ds:DigestValue></ds:DigestValue></ds:Reference>` +
    `<ds:Reference URI="#SignedProperties" Type="http://uri.etsi.org/01903#SignedProperties"><ds:Transforms><ds:Transform Algorithm="${EXC}"/></ds:Transforms><ds:DigestMethod Algorithm="${SHA256}"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>` +
    `<ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certB64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>` +
    `<ds:Object><xades:QualifyingProperties xmlns:xades="${XADES}" Target="#Signature"><xades:SignedProperties Id="SignedProperties"><xades:SignedSignatureProperties><xades:SigningTime>${new Date().toISOString().slice(0, 19)}Z</xades:SigningTime>` +
    `<xades:SigningCertificate><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="${SHA256}"/><ds:DigestValue>${certDigest}</ds:DigestValue></xades:CertDigest><xades:IssuerSerial><ds:X509IssuerName>CN=TEST CCK KSeF</ds:X509IssuerName><ds:X509SerialNumber>${serialDecimal}</ds:X509SerialNumber></xades:IssuerSerial></xades:Cert></xades:SigningCertificate>` +
    `</xades:SignedSignatureProperties></xades:SignedProperties></xades:QualifyingProperties></ds:Object></ds:Signature></AuthTokenRequest>`;
  const dir = mkdtempSync(join(tmpdir(), "ksef-sim-xmlsec-"));
  try {
    writeFileSync(join(dir, "key.pem"), credential.keys.privateKey.export({ type: "pkcs8", format: "pem" }));
    writeFileSync(join(dir, "cert.pem"), encodePem("CERTIFICATE", credential.certificate));
    writeFileSync(join(dir, "in.xml"), template);
    execFileSync(
      "/usr/bin/xmlsec1",
      [
        "--sign",
        "--privkey-pem",
        `${join(dir, "key.pem")},${join(dir, "cert.pem")}`,
        "--id-attr:Id",
        `${XADES}:SignedProperties`,
        "--output",
        join(dir, "out.xml"),
        join(dir, "in.xml"),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    return readFileSync(join(dir, "out.xml"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
