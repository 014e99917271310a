/**
 * Does this private key belong to this certificate? KSeF issues a new key pair for every certificate,
 * and users keep many `.key`/`.crt` files side by side, so picking the wrong `.key` is the commonest
 * mistake (the key files the KSeF web app writes, as observed).
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { KsefCertsError } from "../errors.js";
import { type CertificateInfo, parseCertificate } from "./certificate.js";

function publicHalf(privateKey: KeyObject): KeyObject | undefined {
  try {
    return createPublicKey(privateKey);
  } catch {
    return undefined;
  }
}

/**
 * Whether `privateKey` is the private half of the certificate's public key. Compares the keys
 * themselves (node:crypto `KeyObject.equals`, OpenSSL `EVP_PKEY_eq`), not their SubjectPublicKeyInfo
 * bytes: a certificate may carry a compressed EC point (X9.62 / SEC1 §2.3.3) that node re-exports
 * compressed while the private key's public half exports uncompressed.
 * @param privateKey the private key (a public key also works: it is compared as is)
 * @param certificate the certificate, parsed or as DER
 * @returns `true` when they match, `false` otherwise (also for keys of a different type)
 * @throws {KsefCertsError} `MALFORMED` when `certificate` is DER that is not a certificate
 */
export function keyMatchesCertificate(privateKey: KeyObject, certificate: CertificateInfo | Uint8Array): boolean {
  const info = certificate instanceof Uint8Array ? parseCertificate(certificate) : certificate;
  return publicHalf(privateKey)?.equals(info.publicKey) ?? false;
}

/**
 * Throws unless `privateKey` belongs to `certificate` (see {@link keyMatchesCertificate}).
 * @param privateKey the private key
 * @param certificate the certificate, parsed or as DER
 * @throws {KsefCertsError} `KEY_MISMATCH` naming the certificate (CN and serial) with a hint to pick the
 *   `.key` downloaded together with this `.crt`; `MALFORMED` when `certificate` is not a certificate
 */
export function assertKeyMatchesCertificate(privateKey: KeyObject, certificate: CertificateInfo | Uint8Array): void {
  const info = certificate instanceof Uint8Array ? parseCertificate(certificate) : certificate;
  if (keyMatchesCertificate(privateKey, info)) return;
  const name = info.commonName === undefined ? info.subjectText : `"${info.commonName}"`;
  throw new KsefCertsError("KEY_MISMATCH", `This private key does not belong to the certificate ${name} (serial ${info.serialNumber}).`, {
    hint: "This .key belongs to another certificate: KSeF issues a new key pair for every certificate — pick the .key downloaded together with this .crt.",
    details: { certificateSerialNumber: info.serialNumber, commonName: info.commonName ?? null },
  });
}
