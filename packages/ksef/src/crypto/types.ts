/**
 * Shared shapes of the certificate toolkit (`@ksef-certs/ksef/crypto`).
 */
import type { KeyObject } from "node:crypto";

/**
 * The two key kinds KSeF accepts for its certificates: EC on P-256 (recommended by the ministry)
 * and RSA with exactly 2048 bits. Source: ksef-docs `certyfikaty-KSeF.md` (SPEC `/certificates/enrollments`).
 */
export type KeyAlgorithm = "EC-P256" | "RSA-2048";

/**
 * What a key (private or public) is, read from the key itself.
 * `ksefAccepted` is true only for {@link KeyAlgorithm} values; other keys can be read and
 * converted but KSeF would refuse to certify them (error 25010).
 */
export interface KeyDescription {
  /** `ec`, `rsa`, or another node:crypto `asymmetricKeyType` (e.g. `ed25519`). */
  readonly type: string;
  /** Curve name for EC keys (`P-256`, `P-384`, …), as in JWK `crv`. */
  readonly curve?: string;
  /** Modulus length in bits for RSA keys. */
  readonly bits?: number;
  /** The KSeF name when KSeF accepts the key, else `undefined`. */
  readonly algorithm: KeyAlgorithm | undefined;
  readonly ksefAccepted: boolean;
}

/** How a private key file is laid out. */
export type PrivateKeyFormat = "pkcs8-encrypted" | "pkcs8" | "pkcs1" | "sec1";

/**
 * Password-based encryption of a PKCS#8 `EncryptedPrivateKeyInfo` (RFC 5958 §3, RFC 8018).
 * Names follow OpenSSL (`hmacWithSHA256`, `aes-256-cbc`, `des-ede3-cbc`).
 */
export interface KeyEncryption {
  /** `PBES2` (RFC 8018 §6.2) or a PKCS#12 PBE scheme (RFC 7292 App. C), e.g. `pbeWithSHAAnd3-KeyTripleDES-CBC`. */
  readonly scheme: string;
  /** `PBKDF2` or `scrypt` under PBES2; absent for PKCS#12 PBE. */
  readonly kdf?: string;
  /** PBKDF2 PRF, e.g. `hmacWithSHA256`. */
  readonly prf?: string;
  /** Whether the PRF AlgorithmIdentifier carries explicit NULL parameters (the web app writes none). */
  readonly prfHasNullParameters?: boolean;
  /** Cipher, e.g. `aes-256-cbc`. */
  readonly cipher?: string;
  /** Iteration count of the KDF. */
  readonly iterations?: number;
  /** Salt length in bytes. */
  readonly saltBytes?: number;
}

/** A private key read from a file, with what was learnt about the file on the way. */
export interface PrivateKeyInfo {
  readonly key: KeyObject;
  readonly format: PrivateKeyFormat;
  /** Whether the file was PEM text or raw DER (whatever its name). */
  readonly container: "pem" | "der";
  /**
   * How the file was encrypted: present for `pkcs8-encrypted`, and for OpenSSL's legacy
   * `Proc-Type: 4,ENCRYPTED` PEM (then `format` is `pkcs1` or `sec1` and `scheme` says so).
   */
  readonly encryption?: KeyEncryption;
  readonly description: KeyDescription;
}

/** One attribute of a distinguished name, in certificate order (one attribute per RDN as KSeF writes them). */
export interface DnAttribute {
  /** Dotted OID, e.g. `2.5.4.3`. */
  readonly oid: string;
  /** Short name where one exists (`CN`, `SN`, `G`, `O`, `C`, `serialNumber`, `organizationIdentifier`, `uniqueIdentifier`), else the OID. */
  readonly name: string;
  /** The decoded text value. */
  readonly value: string;
  /** ASN.1 string type it was encoded with (`UTF8String`, `PrintableString`, …). */
  readonly stringType: string;
}

export type { KsefCertificateType } from "../vocabulary.js";

/**
 * How a KSeF subject is identified (SPEC `CertificateSubjectIdentifierType`):
 * NIP (10 digits), PESEL (11 digits) or the SHA-256 fingerprint of the certificate (64 uppercase hex).
 */
export interface SubjectIdentifier {
  readonly type: "Nip" | "Pesel" | "Fingerprint";
  readonly value: string;
}

/**
 * The KSeF enrollment data (SPEC `CertificateEnrollmentDataResponse`, response of
 * `GET /certificates/enrollments/data`). Values go into the CSR byte for byte (ksef-docs `certyfikaty-KSeF.md`).
 */
export interface EnrollmentData {
  readonly commonName: string;
  readonly countryName: string;
  readonly givenName?: string | null;
  readonly surname?: string | null;
  readonly serialNumber?: string | null;
  readonly uniqueIdentifier?: string | null;
  readonly organizationName?: string | null;
  readonly organizationIdentifier?: string | null;
}
