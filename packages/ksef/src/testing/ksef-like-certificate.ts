/**
 * Test support shipped with the package: certificates issued the way KSeF issues them, by a local
 * test CA, so tests (core, CLI, PKCS#12, benchmark) and the KSeF simulator work without the real API.
 *
 * What "the way KSeF issues them" means (ksef-docs `certyfikaty-KSeF.md`, and as observed on KSeF TEST):
 * an 8-byte serial (16 hex), the subject reordered (C, organizationIdentifier, O, …, CN last), the CN
 * suffixed with " (uwierzytelnienie)" or " (offline)", keyUsage digitalSignature (Authentication) or
 * nonRepudiation (Offline), a two-year validity, and an issuer signature ecdsa-with-SHA256 **with
 * explicit NULL parameters** (which strict parsers may refuse). The TBSCertificate is built with
 * asn1js and signed with node:crypto (RFC 5280 §4.1).
 */
import { createHash, createPublicKey, type KeyObject, randomBytes, sign } from "node:crypto";
import * as asn1js from "asn1js";
import { KsefCertsError } from "../errors.js";
import { algorithmIdentifier, type AsnNode, explicit, parseDer, readSequence, sequence, toDer } from "../crypto/asn1.js";
import { DN_OID, encodeName, isWellFormedText, type NameAttributeInput, PRINTABLE_STRING } from "../crypto/dn.js";
import { encodePem } from "../crypto/encoding.js";
import { generateKeyPair, type KeyPair } from "../crypto/keys.js";
import type { EnrollmentData, KsefCertificateType } from "../crypto/types.js";
import { readSignatureValue } from "../crypto/x509.js";

/** A certificate authority for tests: its key and its self-signed certificate. */
export interface TestCertificateAuthority {
  /** The CA's private key (EC P-256). */
  readonly privateKey: KeyObject;
  /** The CA certificate, PEM (`CERTIFICATE`). */
  readonly certificate: string;
  /** The CA certificate, DER. */
  readonly der: Uint8Array;
  /** The CA subject, which becomes the issuer of the certificates it issues. */
  readonly subject: readonly NameAttributeInput[];
  /** SHA-1 of the CA public key bits (its subjectKeyIdentifier, RFC 5280 §4.2.1.2 method 1). */
  readonly keyIdentifier: Uint8Array;
}

/** Options of {@link issueKsefLikeCertificate}. */
export interface IssueKsefLikeCertificateOptions {
  /** `Authentication` (keyUsage digitalSignature, CN suffix " (uwierzytelnienie)") or `Offline` (nonRepudiation, " (offline)"). */
  readonly certificateType: KsefCertificateType;
  /**
   * The key being certified: its public key goes into the certificate. A {@link KeyPair} fits; a CA
   * (like the simulator's) that only has the CSR's public key passes `{ publicKey }`.
   */
  readonly keys: { readonly publicKey: KeyObject };
  /** The subject values, as `GET /certificates/enrollments/data` returns them. */
  readonly enrollmentData: EnrollmentData;
  /** Start of validity; default now. Milliseconds are dropped (RFC 5280 times have whole seconds). */
  readonly validFrom?: Date;
  /** Validity in days; default 730 (two years, as KSeF issues). */
  readonly validityDays?: number;
  /** The issuing CA; default the per-process {@link testCertificateAuthority}. */
  readonly issuer?: TestCertificateAuthority;
  /** Serial number bytes; default 8 random bytes with the top bit clear and a non-zero first byte. */
  readonly serialNumber?: Uint8Array;
  /**
   * Test-only deviations, for building inconsistent or older-style certificates:
   * `keyUsage` writes another type's key usage (or both/none), `commonNameSuffix` replaces the suffix,
   * `signatureHash` `sha512` gives ecdsa-with-SHA512 (older KSeF certificates), `signatureNullParameters`
   * `false` omits the NULL as RFC 5758 requires.
   */
  readonly overrides?: {
    readonly keyUsage?: KsefCertificateType | "both" | "none";
    readonly commonNameSuffix?: string;
    readonly signatureHash?: "sha256" | "sha512";
    readonly signatureNullParameters?: boolean;
  };
}

/** A certificate produced by {@link issueKsefLikeCertificate} or {@link selfSignedCertificate}. */
export interface IssuedTestCertificate {
  /** The certificate, PEM (`CERTIFICATE`). */
  readonly certificate: string;
  /** The certificate, DER. */
  readonly der: Uint8Array;
  /** The issuer's certificate, PEM (the certificate itself when self-signed). */
  readonly issuerCertificate: string;
}

/** The issuer of KSeF certificates on TEST (ksef-docs `certyfikaty-KSeF.md`). */
const TEST_CA_SUBJECT: readonly NameAttributeInput[] = [
  { oid: DN_OID.countryName, value: "PL", stringType: "PrintableString" },
  { oid: DN_OID.organizationName, value: "Ministerstwo Finansów", stringType: "UTF8String" },
  { oid: DN_OID.organizationalUnitName, value: "Krajowa Administracja Skarbowa", stringType: "UTF8String" },
  { oid: DN_OID.commonName, value: "TEST CCK KSeF", stringType: "UTF8String" },
];

const OIDS = {
  ecdsaWithSHA256: "1.2.840.10045.4.3.2",
  ecdsaWithSHA512: "1.2.840.10045.4.3.4",
  sha256WithRSAEncryption: "1.2.840.113549.1.1.11",
  keyUsage: "2.5.29.15",
  basicConstraints: "2.5.29.19",
  subjectKeyIdentifier: "2.5.29.14",
  authorityKeyIdentifier: "2.5.29.35",
} as const;

const MS_PER_DAY = 86_400_000;

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, both `Z` with whole seconds. */
function time(date: Date): asn1js.Primitive {
  const iso = date.toISOString(); // 2027-10-07T13:34:06.000Z
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  const utc = year >= 1950 && year < 2050;
  return new asn1js.Primitive({ idBlock: { tagClass: 1, tagNumber: utc ? 23 : 24 }, valueHex: Buffer.from(utc ? digits.slice(2) : digits, "latin1") });
}

/** A DER BIT STRING for KeyUsage (RFC 5280 §4.2.1.3) with the given bit numbers set, trailing zero bits trimmed. */
function keyUsageBits(bits: readonly number[]): asn1js.Primitive {
  const bytes = new Uint8Array(bits.length === 0 ? 0 : Math.floor(Math.max(...bits) / 8) + 1);
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
  const last = bytes[bytes.length - 1] ?? 0;
  let unused = 0;
  while (bytes.length > 0 && unused < 7 && (last & (1 << unused)) === 0) unused++;
  return new asn1js.Primitive({ idBlock: { tagClass: 1, tagNumber: 3 }, valueHex: Uint8Array.from([unused, ...bytes]) });
}

function extension(oid: string, critical: boolean, value: AsnNode): asn1js.Sequence {
  const items: AsnNode[] = [new asn1js.ObjectIdentifier({ value: oid })];
  if (critical) items.push(new asn1js.Boolean({ value: true }));
  items.push(new asn1js.OctetString({ valueHex: toDer(value) }));
  return sequence(items);
}

function keyIdentifier(publicKey: KeyObject): Uint8Array {
  const spki = publicKey.export({ type: "spki", format: "der" });
  // subjectPublicKey BIT STRING contents: the last element of the SPKI; hashing the whole SPKI would also be unique, but method 1 is the usual one.
  const [, bitString] = readSequence(parseDer(spki, "public key"), "public key");
  const bits = readSignatureValue(bitString, "public key");
  return createHash("sha1").update(bits).digest();
}

/** The signature AlgorithmIdentifier and hash for `key` (RFC 5758 §3.2, RFC 4055 §5). */
function signatureAlgorithm(key: KeyObject, hash: "sha256" | "sha512", ecNullParameters: boolean): { algorithm: asn1js.Sequence; hash: string } {
  if (key.asymmetricKeyType === "ec") {
    const oid = hash === "sha512" ? OIDS.ecdsaWithSHA512 : OIDS.ecdsaWithSHA256;
    return { algorithm: algorithmIdentifier(oid, ecNullParameters ? null : undefined), hash };
  }
  if (key.asymmetricKeyType === "rsa") return { algorithm: algorithmIdentifier(OIDS.sha256WithRSAEncryption, null), hash: "sha256" };
  throw new KsefCertsError("UNSUPPORTED", `Test certificates are signed with EC or RSA keys, not ${String(key.asymmetricKeyType)}.`, {
    details: { scheme: String(key.asymmetricKeyType) },
  });
}

interface CertificateTemplate {
  readonly serial: Uint8Array;
  readonly issuer: readonly NameAttributeInput[];
  readonly subject: readonly NameAttributeInput[];
  readonly validFrom: Date;
  readonly validTo: Date;
  readonly publicKey: KeyObject;
  readonly extensions: readonly asn1js.Sequence[];
  readonly signingKey: KeyObject;
  readonly hash: "sha256" | "sha512";
  readonly ecNullParameters: boolean;
}

/** Builds and signs an X.509 v3 certificate (RFC 5280 §4.1). */
function buildCertificate(t: CertificateTemplate): Uint8Array {
  const { algorithm, hash } = signatureAlgorithm(t.signingKey, t.hash, t.ecNullParameters);
  const spki = parseDer(t.publicKey.export({ type: "spki", format: "der" }), "public key");
  const tbs = sequence([
    explicit(0, new asn1js.Integer({ value: 2 })),
    new asn1js.Integer({ valueHex: t.serial }),
    algorithm,
    encodeName(t.issuer),
    sequence([time(t.validFrom), time(t.validTo)]),
    encodeName(t.subject),
    spki,
    // Extensions is SIZE (1..MAX): omitted entirely when there are none.
    ...(t.extensions.length === 0 ? [] : [explicit(3, sequence([...t.extensions]))]),
  ]);
  const tbsDer = toDer(tbs);
  const signature = sign(hash, tbsDer, { key: t.signingKey, dsaEncoding: "der" });
  const certificate = sequence([
    parseDer(tbsDer, "certificate"),
    signatureAlgorithm(t.signingKey, t.hash, t.ecNullParameters).algorithm,
    new asn1js.Primitive({ idBlock: { tagClass: 1, tagNumber: 3 }, valueHex: Buffer.concat([Buffer.from([0]), signature]) }),
  ]);
  return toDer(certificate);
}

function randomSerial(): Uint8Array {
  const serial = randomBytes(8);
  // Positive (top bit clear) and minimal DER (no leading zero byte): always exactly 8 bytes / 16 hex, as KSeF's.
  serial[0] = (serial[0] ?? 0) & 0x7f || 0x01;
  return serial;
}

function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/**
 * Creates a new test CA: EC P-256 key, self-signed certificate `C=PL, O=Ministerstwo Finansów,
 * OU=Krajowa Administracja Skarbowa, CN=TEST CCK KSeF` (or the given CN), basicConstraints CA,
 * keyUsage keyCertSign + cRLSign, ten years of validity, signed ecdsa-with-SHA256 with NULL parameters.
 * @param options `commonName` to tell several CAs apart (e.g. for "issued by another CA" tests); `validFrom`, the
 *   start of validity (default a day before now: give the clock of the code under test, so the CA is valid on it)
 */
export async function createTestCertificateAuthority(
  options: { readonly commonName?: string; readonly validFrom?: Date } = {},
): Promise<TestCertificateAuthority> {
  const keys = await generateKeyPair("EC-P256");
  const subject = TEST_CA_SUBJECT.map((a) => (a.oid === DN_OID.commonName && options.commonName !== undefined ? { ...a, value: options.commonName } : a));
  const id = keyIdentifier(keys.publicKey);
  const validFrom = wholeSeconds(options.validFrom ?? new Date(Date.now() - MS_PER_DAY));
  const der = buildCertificate({
    serial: randomSerial(),
    issuer: subject,
    subject,
    validFrom,
    validTo: new Date(validFrom.getTime() + 3650 * MS_PER_DAY),
    publicKey: keys.publicKey,
    extensions: [
      extension(OIDS.basicConstraints, true, sequence([new asn1js.Boolean({ value: true })])),
      extension(OIDS.keyUsage, true, keyUsageBits([5, 6])),
      extension(OIDS.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: id })),
    ],
    signingKey: keys.privateKey,
    hash: "sha256",
    ecNullParameters: true,
  });
  return { privateKey: keys.privateKey, certificate: encodePem("CERTIFICATE", der), der, subject, keyIdentifier: id };
}

let defaultAuthority: Promise<TestCertificateAuthority> | undefined;

/**
 * The per-process test CA (`CN=TEST CCK KSeF`), created on first use and cached.
 * @returns the same authority for every call in this process
 */
export function testCertificateAuthority(): Promise<TestCertificateAuthority> {
  defaultAuthority ??= createTestCertificateAuthority();
  return defaultAuthority;
}

/** Subject of an issued certificate, in the order KSeF reorders it to (ksef-docs `certyfikaty-KSeF.md`): C, organizationIdentifier, O, person attributes, CN last. */
function issuedSubject(data: EnrollmentData, commonName: string): NameAttributeInput[] {
  const attrs: NameAttributeInput[] = [];
  const add = (oid: string, value: string | null | undefined, stringType: NameAttributeInput["stringType"]): void => {
    if (value !== undefined && value !== null && value !== "") attrs.push({ oid, value, stringType });
  };
  add(DN_OID.countryName, data.countryName, "PrintableString");
  add(DN_OID.organizationIdentifier, data.organizationIdentifier, "UTF8String");
  add(DN_OID.organizationName, data.organizationName, "UTF8String");
  add(DN_OID.surname, data.surname, "UTF8String");
  add(DN_OID.givenName, data.givenName, "UTF8String");
  add(DN_OID.serialNumber, data.serialNumber, "PrintableString");
  add(DN_OID.uniqueIdentifier, data.uniqueIdentifier, "UTF8String");
  add(DN_OID.commonName, commonName, "UTF8String");
  return attrs;
}

const KEY_USAGE_BITS: Readonly<Record<KsefCertificateType | "both" | "none", readonly number[]>> = {
  Authentication: [0], // digitalSignature ("80")
  Offline: [1], // nonRepudiation ("40")
  both: [0, 1],
  none: [],
};

/**
 * Issues a certificate the way KSeF issues one (see the module comment), signed by a test CA.
 * Not for production: the CA key lives in memory and is not protected.
 * @param options type, key pair, enrollment data, validity and optional test-only deviations
 * @returns the certificate as PEM and DER, and the issuer certificate as PEM (for `openssl verify -CAfile`)
 * @throws {KsefCertsError} `UNSUPPORTED` when the CA key is neither EC nor RSA; `VALIDATION` when the
 *   enrollment data has a PrintableString field (countryName, serialNumber) outside that alphabet or
 *   text that is not well-formed Unicode
 */
export async function issueKsefLikeCertificate(options: IssueKsefLikeCertificateOptions): Promise<IssuedTestCertificate> {
  const issuer = options.issuer ?? (await testCertificateAuthority());
  const o = options.overrides ?? {};
  const suffix = o.commonNameSuffix ?? (options.certificateType === "Authentication" ? " (uwierzytelnienie)" : " (offline)");
  const subject = issuedSubject(options.enrollmentData, `${options.enrollmentData.commonName}${suffix}`);
  assertEncodable(subject);
  const validFrom = wholeSeconds(options.validFrom ?? new Date());
  const validTo = new Date(validFrom.getTime() + (options.validityDays ?? 730) * MS_PER_DAY);
  const publicKey = options.keys.publicKey;
  const extensions = [
    extension(OIDS.keyUsage, true, keyUsageBits(KEY_USAGE_BITS[o.keyUsage ?? options.certificateType])),
    extension(OIDS.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: keyIdentifier(publicKey) })),
    extension(OIDS.authorityKeyIdentifier, false, sequence([new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: issuer.keyIdentifier })])),
  ];
  const der = buildCertificate({
    serial: options.serialNumber ?? randomSerial(),
    issuer: issuer.subject,
    subject,
    validFrom,
    validTo,
    publicKey,
    extensions,
    signingKey: issuer.privateKey,
    hash: o.signatureHash ?? "sha256",
    ecNullParameters: o.signatureNullParameters ?? true,
  });
  return { certificate: encodePem("CERTIFICATE", der), der, issuerCertificate: issuer.certificate };
}

function assertEncodable(attrs: readonly NameAttributeInput[]): void {
  for (const a of attrs) {
    if (a.stringType === "PrintableString" && !PRINTABLE_STRING.test(a.value)) {
      throw new KsefCertsError("VALIDATION", `The value of ${a.oid} cannot be written as a PrintableString.`, {
        violations: [{ field: a.oid, rule: "dn.printableString", message: "Only A-Z, a-z, 0-9, space and ' ( ) + , - . / : = ? are allowed." }],
      });
    }
    if (!isWellFormedText(a.value)) {
      throw new KsefCertsError("VALIDATION", `The value of ${a.oid} is not well-formed Unicode text.`, {
        violations: [{ field: a.oid, rule: "dn.unicode", message: "Lone UTF-16 surrogates cannot be written as UTF-8." }],
      });
    }
  }
}

/**
 * A self-signed certificate for tests (EC keys: ecdsa-with-SHA256 without parameters; RSA keys:
 * sha256WithRSAEncryption with NULL), with the subject exactly as given and an optional KSeF key usage.
 * @param keys the key pair (signs its own certificate)
 * @param subject the subject (and issuer) attributes in order
 * @param options validity (default now, 365 days) and `keyUsage` (default none)
 * @returns the certificate as PEM and DER; `issuerCertificate` is the certificate itself
 * @throws {KsefCertsError} `VALIDATION` for a value its string type cannot hold; `UNSUPPORTED` for a key neither EC nor RSA
 */
export function selfSignedCertificate(
  keys: KeyPair,
  subject: readonly NameAttributeInput[],
  options: { readonly validFrom?: Date; readonly validityDays?: number; readonly keyUsage?: KsefCertificateType } = {},
): Promise<IssuedTestCertificate> {
  assertEncodable(subject);
  const validFrom = wholeSeconds(options.validFrom ?? new Date());
  const der = buildCertificate({
    serial: randomSerial(),
    issuer: subject,
    subject,
    validFrom,
    validTo: new Date(validFrom.getTime() + (options.validityDays ?? 365) * MS_PER_DAY),
    publicKey: createPublicKey(keys.privateKey),
    extensions: options.keyUsage === undefined ? [] : [extension(OIDS.keyUsage, true, keyUsageBits(KEY_USAGE_BITS[options.keyUsage]))],
    signingKey: keys.privateKey,
    hash: "sha256",
    ecNullParameters: false,
  });
  const certificate = encodePem("CERTIFICATE", der);
  return Promise.resolve({ certificate, der, issuerCertificate: certificate });
}
