/**
 * Test material for the registry suites: real KSeF-like certificates from the test CA and real
 * encrypted PKCS#8 key files. One EC key pair per suite keeps the suites fast; the registry does not
 * care that two certificates share a key.
 */
import { encryptPrivateKeyPem, generateKeyPair, type KeyPair } from "@ksef-certs/ksef/crypto";
import { issueKsefLikeCertificate } from "@ksef-certs/ksef/testing";
import type { EnrollmentData, KsefCertificateType } from "@ksef-certs/ksef/crypto";

/** A person's enrollment data (PESEL identity), as `GET /certificates/enrollments/data` returns it. */
export const PERSON: EnrollmentData = {
  commonName: "Jan Kowalski",
  countryName: "PL",
  givenName: "Jan",
  surname: "Kowalski",
  serialNumber: "PNOPL-44051401359",
};
/** A company seal's enrollment data (NIP identity). */
export const SEAL: EnrollmentData = {
  commonName: "Firma Testowa",
  countryName: "PL",
  organizationName: "Firma Testowa",
  organizationIdentifier: "VATPL-5265877635",
};

/** Days in ms. */
export const DAY = 86_400_000;

/** One key pair and its encrypted key file (fast iteration count: the registry only checks the layout). */
export interface TestKey {
  readonly keys: KeyPair;
  readonly keyFile: Uint8Array;
  readonly password: string;
}

/**
 * A fresh EC P-256 key and its encrypted PKCS#8 PEM.
 * @param password the key password
 */
export async function testKey(password = "Tajne-Haslo-123!"): Promise<TestKey> {
  const keys = await generateKeyPair("EC-P256");
  const pem = await encryptPrivateKeyPem(keys.privateKey, password, { iterations: 1000 });
  return { keys, keyFile: new TextEncoder().encode(pem), password };
}

/**
 * A KSeF-like certificate for `key`, valid from `validFrom` for `days`.
 * @param key the key pair to certify
 * @param type Authentication or Offline
 * @param validFrom start of validity
 * @param days validity in days
 * @param data enrollment data (default {@link PERSON})
 */
export async function testCertificate(
  key: TestKey,
  type: KsefCertificateType,
  validFrom: Date,
  days = 730,
  data: EnrollmentData = PERSON,
): Promise<Uint8Array> {
  const issued = await issueKsefLikeCertificate({ certificateType: type, keys: key.keys, enrollmentData: data, validFrom, validityDays: days });
  return issued.der;
}
