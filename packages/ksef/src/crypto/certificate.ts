/**
 * Reading X.509 certificates: KSeF-issued ones (ecdsa-with-SHA256/SHA512 with explicit NULL
 * parameters, 8-byte serials, CN suffixes), qualified certificates used to log in, and plain ones.
 *
 * The structure is read with asn1js (RFC 5280 §4.1) rather than node's `X509Certificate`, because we
 * need what that class does not expose: each DN attribute with its string type, the raw key-usage
 * bits and the exact signed bytes. node:crypto builds the public key and checks signatures.
 * Sources: RFC 5280 §4.1, §4.2.1.3; ksef-docs `uwierzytelnianie.md` (identity extraction), `certyfikaty-KSeF.md` (issued certificates).
 */
import { createHash, type KeyObject } from "node:crypto";
import { type AsnNode, encodedBytes, malformed, parseDer, readExplicit, readOid, readSequence } from "./asn1.js";
import { formatName, readName } from "./dn.js";
import { type BytesInput, toHexUpper } from "./encoding.js";
import { describeKey } from "./key-description.js";
import type { DnAttribute, KeyDescription, KsefCertificateType, SubjectIdentifier } from "./types.js";
import { locateX509Objects, readSignatureAlgorithm, readSignatureValue, readSubjectPublicKey, verifySignature } from "./x509.js";

/** The two KSeF sources of a certificate's type and whether they agree. */
export interface KsefTypeCheck {
  /** From keyUsage: digitalSignature alone = Authentication, nonRepudiation alone = Offline, else undefined. */
  readonly fromKeyUsage: KsefCertificateType | undefined;
  /** From the CN suffix KSeF appends: " (uwierzytelnienie)" = Authentication, " (offline)" = Offline, else undefined. */
  readonly fromCommonName: KsefCertificateType | undefined;
  /**
   * `false` when the CN claims a KSeF type and keyUsage does not say the same (a damaged or forged
   * KSeF certificate); `true` when they agree or the CN has no KSeF suffix (not a KSeF certificate).
   */
  readonly consistent: boolean;
}

/** Everything ksef-certs needs from a certificate. */
export interface CertificateInfo {
  /** The certificate, DER, exactly as read (for PEM input: the decoded block). */
  readonly der: Uint8Array;
  /**
   * Serial number, uppercase hex as KSeF writes it (`012E76A6111F788E`: 8 bytes, 16 hex digits):
   * the INTEGER's content bytes with only a leading 00 sign byte removed; always an even length.
   */
  readonly serialNumber: string;
  /** Subject attributes in certificate order, with their string types. */
  readonly subject: readonly DnAttribute[];
  /** Issuer attributes in certificate order, with their string types. */
  readonly issuer: readonly DnAttribute[];
  /** One-line subject, e.g. `C=PL, organizationIdentifier=VATPL-5265877635, O=Firma, CN=Firma (offline)`. */
  readonly subjectText: string;
  /** One-line issuer, e.g. `C=PL, O=Ministerstwo Finansów, OU=Krajowa Administracja Skarbowa, CN=TEST CCK KSeF`. */
  readonly issuerText: string;
  /** The first subject commonName (KSeF-issued: with its " (uwierzytelnienie)"/" (offline)" suffix), or undefined. */
  readonly commonName: string | undefined;
  /** notBefore, ISO 8601 UTC with milliseconds, e.g. `2025-10-07T13:34:06.000Z`. */
  readonly validFrom: string;
  /** notAfter, ISO 8601 UTC with milliseconds, e.g. `2027-10-07T13:34:06.000Z`. */
  readonly validTo: string;
  /** KSeF type from keyUsage (see {@link KsefTypeCheck.fromKeyUsage}); undefined when not exactly one of the two bits. */
  readonly ksefType: KsefCertificateType | undefined;
  /** keyUsage and CN suffix compared. */
  readonly typeCheck: KsefTypeCheck;
  /**
   * Who KSeF takes the certificate holder for (ksef-docs `uwierzytelnianie.md`), first match wins:
   * 1. a subject serialNumber matching `(PNOPL|PESEL).*?(\d{11})` → Pesel (the 11 digits);
   * 2. a subject serialNumber matching `(TINPL|NIP).*?(\d{10})` → Nip (the 10 digits);
   * 3. a subject organizationIdentifier matching `(VATPL).*?(\d{10})` → Nip (the 10 digits);
   * 4. otherwise Fingerprint = {@link fingerprintSha256}.
   */
  readonly subjectIdentifier: SubjectIdentifier;
  /** SHA-256 of {@link der}, 64 uppercase hex digits (the KSeF certificate fingerprint). */
  readonly fingerprintSha256: string;
  /** The subject public key. */
  readonly publicKey: KeyObject;
  /** The subject public key's SubjectPublicKeyInfo, DER as encoded in the certificate. */
  readonly subjectPublicKeyInfo: Uint8Array;
  /** What the public key is and whether KSeF would certify it. */
  readonly keyDescription: KeyDescription;
  /** Issuer's signature algorithm, OpenSSL name (`ecdsa-with-SHA256`, `sha256WithRSAEncryption`, …) or dotted OID. */
  readonly signatureAlgorithm: string;
  /** Whether that AlgorithmIdentifier carries explicit NULL parameters (KSeF-issued ECDSA certificates do; RFC 5758 says omit). */
  readonly signatureAlgorithmHasNullParameters: boolean;
  /** Issuer and subject are byte-identical and the signature verifies with the certificate's own key. */
  readonly selfSigned: boolean;
  /** keyUsage bits set, by RFC 5280 name (`digitalSignature`, `nonRepudiation`, …); empty without the extension. */
  readonly keyUsage: readonly string[];
}

/** KeyUsage bit names in bit order (RFC 5280 §4.2.1.3; bit 1 is `nonRepudiation`, renamed contentCommitment). */
const KEY_USAGE_NAMES = [
  "digitalSignature",
  "nonRepudiation",
  "keyEncipherment",
  "dataEncipherment",
  "keyAgreement",
  "keyCertSign",
  "cRLSign",
  "encipherOnly",
  "decipherOnly",
] as const;
const KEY_USAGE_OID = "2.5.29.15";

/** The CN suffixes KSeF appends to issued certificates (ksef-docs `certyfikaty-KSeF.md`). */
export const KSEF_COMMON_NAME_SUFFIXES: Readonly<Record<KsefCertificateType, string>> = {
  Authentication: " (uwierzytelnienie)",
  Offline: " (offline)",
};

const PESEL = /(PNOPL|PESEL).*?(\d{11})/;
const NIP = /(TINPL|NIP).*?(\d{10})/;
const VAT = /(VATPL).*?(\d{10})/;

/** Reads a UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5) into a Date. */
function readTime(node: AsnNode | undefined, what: string): Date {
  const tag = node?.idBlock.tagClass === 1 ? node.idBlock.tagNumber : -1;
  if (node === undefined || (tag !== 23 && tag !== 24) || node.idBlock.isConstructed)
    throw malformed("certificate", `${what} is not a UTCTime or GeneralizedTime`);
  const text = Buffer.from((node.valueBlock as unknown as { valueHexView: Uint8Array }).valueHexView).toString("latin1");
  const m =
    tag === 23
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/.exec(text)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d{1,9}))?(Z|[+-]\d{4})?$/.exec(text);
  if (m === null) throw malformed("certificate", `${what} is not a valid time`);
  const n = (i: number): number => Number(m[i] ?? "0");
  // UTCTime years 50-99 are 19xx, 00-49 are 20xx (RFC 5280 §4.1.2.5.1).
  const year = tag === 23 ? (n(1) >= 50 ? 1900 + n(1) : 2000 + n(1)) : n(1);
  const zone = tag === 23 ? m[7] : m[8];
  const ms = tag === 24 && m[7] !== undefined ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  let t = Date.UTC(year, n(2) - 1, n(3), n(4), n(5), n(6), ms);
  if (zone !== undefined && zone !== "Z") t -= (zone.startsWith("-") ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
  const date = new Date(t);
  if (Number.isNaN(date.getTime()) || n(2) < 1 || n(2) > 12 || n(3) < 1 || n(3) > 31 || n(4) > 23 || n(5) > 59 || n(6) > 60)
    throw malformed("certificate", `${what} is not a valid time`);
  return date;
}

/** Serial INTEGER content as uppercase hex, dropping only a leading 00 sign byte. */
function readSerial(node: AsnNode | undefined): string {
  if (node?.idBlock.tagClass !== 1 || node.idBlock.tagNumber !== 2 || node.idBlock.isConstructed)
    throw malformed("certificate", "the serial number is not an INTEGER");
  let bytes = (node.valueBlock as unknown as { valueHexView: Uint8Array }).valueHexView;
  if (bytes.length === 0) throw malformed("certificate", "the serial number is empty");
  if (bytes.length > 1 && bytes[0] === 0 && ((bytes[1] ?? 0) & 0x80) !== 0) bytes = bytes.subarray(1);
  return toHexUpper(bytes);
}

function readKeyUsage(extensions: AsnNode | undefined): string[] {
  if (extensions === undefined) return [];
  for (const ext of readSequence(extensions, "certificate extensions")) {
    const items = readSequence(ext, "certificate extension");
    if (readOid(items[0], "certificate extension") !== KEY_USAGE_OID) continue;
    const value = items[items.length - 1];
    if (value?.idBlock.tagClass !== 1 || value.idBlock.tagNumber !== 4) throw malformed("certificate", "the keyUsage extension has no value");
    const bits = parseDer((value.valueBlock as unknown as { valueHexView: Uint8Array }).valueHexView, "certificate keyUsage");
    if (bits.idBlock.tagClass !== 1 || bits.idBlock.tagNumber !== 3 || bits.idBlock.isConstructed)
      throw malformed("certificate", "keyUsage is not a BIT STRING");
    const bytes = (bits.valueBlock as unknown as { valueHexView: Uint8Array }).valueHexView;
    const unused = (bits.valueBlock as unknown as { unusedBits?: number }).unusedBits ?? 0;
    const names: string[] = [];
    KEY_USAGE_NAMES.forEach((name, bit) => {
      const byte = bytes[bit >> 3];
      const inRange = bit < bytes.length * 8 - unused;
      if (byte !== undefined && inRange && (byte & (0x80 >> (bit & 7))) !== 0) names.push(name);
    });
    return names;
  }
  return [];
}

/**
 * The KSeF type from key usage names (ksef-docs `certyfikaty-KSeF.md`): digitalSignature without nonRepudiation =
 * Authentication, nonRepudiation without digitalSignature = Offline, otherwise undefined.
 * @param keyUsage names as in {@link CertificateInfo.keyUsage}
 */
export function ksefTypeFromKeyUsage(keyUsage: readonly string[]): KsefCertificateType | undefined {
  const ds = keyUsage.includes("digitalSignature");
  const nr = keyUsage.includes("nonRepudiation");
  if (ds && !nr) return "Authentication";
  if (nr && !ds) return "Offline";
  return undefined;
}

/**
 * The KSeF type claimed by a commonName suffix (" (uwierzytelnienie)" / " (offline)"), else undefined.
 * @param commonName the subject CN
 */
export function ksefTypeFromCommonName(commonName: string | undefined): KsefCertificateType | undefined {
  if (commonName === undefined) return undefined;
  if (commonName.endsWith(KSEF_COMMON_NAME_SUFFIXES.Authentication)) return "Authentication";
  if (commonName.endsWith(KSEF_COMMON_NAME_SUFFIXES.Offline)) return "Offline";
  return undefined;
}

/**
 * The KSeF subject identifier of a certificate subject (precedence in {@link CertificateInfo.subjectIdentifier}).
 * @param subject the subject attributes
 * @param fingerprintSha256 the certificate fingerprint (64 uppercase hex), used when no NIP/PESEL is found
 */
export function subjectIdentifierOf(subject: readonly DnAttribute[], fingerprintSha256: string): SubjectIdentifier {
  const serials = subject.filter((a) => a.oid === "2.5.4.5").map((a) => a.value);
  for (const s of serials) {
    const m = PESEL.exec(s);
    if (m?.[2] !== undefined) return { type: "Pesel", value: m[2] };
  }
  for (const s of serials) {
    const m = NIP.exec(s);
    if (m?.[2] !== undefined) return { type: "Nip", value: m[2] };
  }
  for (const a of subject) {
    if (a.oid !== "2.5.4.97") continue;
    const m = VAT.exec(a.value);
    if (m?.[2] !== undefined) return { type: "Nip", value: m[2] };
  }
  return { type: "Fingerprint", value: fingerprintSha256 };
}

/** Reads one located certificate. */
function readCertificate(der: Uint8Array, node: AsnNode): CertificateInfo {
  const [tbsNode, algNode, sigNode] = readSequence(node, "certificate");
  const tbs = readSequence(tbsNode, "certificate");
  let i = 0;
  const versionNode = readExplicit(tbs[0], 0, "certificate version");
  if (versionNode !== undefined) i++;
  const serialNumber = readSerial(tbs[i++]);
  readSignatureAlgorithm(tbs[i++], "certificate signature algorithm");
  const issuerNode = tbs[i++];
  const issuer = readName(issuerNode, "certificate issuer");
  const validity = readSequence(tbs[i++], "certificate validity");
  if (validity.length !== 2) throw malformed("certificate", "the validity must have two times");
  const validFrom = readTime(validity[0], "notBefore").toISOString();
  const validTo = readTime(validity[1], "notAfter").toISOString();
  const subjectNode = tbs[i++];
  const subject = readName(subjectNode, "certificate subject");
  const { publicKey, spki } = readSubjectPublicKey(tbs[i++], "certificate");
  let extensions: AsnNode | undefined;
  for (; i < tbs.length; i++) extensions = readExplicit(tbs[i], 3, "certificate extensions") ?? extensions;
  const keyUsage = readKeyUsage(extensions);

  const signature = readSignatureAlgorithm(algNode, "certificate signature algorithm");
  const signatureValue = readSignatureValue(sigNode, "certificate");
  const fingerprintSha256 = toHexUpper(createHash("sha256").update(der).digest());
  const commonName = subject.find((a) => a.oid === "2.5.4.3")?.value;
  const fromKeyUsage = ksefTypeFromKeyUsage(keyUsage);
  const fromCommonName = ksefTypeFromCommonName(commonName);
  const sameName = Buffer.compare(Buffer.from(encodedBytes(issuerNode as AsnNode)), Buffer.from(encodedBytes(subjectNode as AsnNode))) === 0;
  return {
    der,
    serialNumber,
    subject,
    issuer,
    subjectText: formatName(subject),
    issuerText: formatName(issuer),
    commonName,
    validFrom,
    validTo,
    ksefType: fromKeyUsage,
    typeCheck: { fromKeyUsage, fromCommonName, consistent: fromCommonName === undefined || fromCommonName === fromKeyUsage },
    subjectIdentifier: subjectIdentifierOf(subject, fingerprintSha256),
    fingerprintSha256,
    publicKey,
    subjectPublicKeyInfo: spki,
    keyDescription: describeKey(publicKey),
    signatureAlgorithm: signature.name,
    signatureAlgorithmHasNullParameters: signature.hasNullParameters,
    selfSigned: sameName && verifySignature(signature.algorithm, encodedBytes(tbsNode as AsnNode), signatureValue, publicKey),
    keyUsage,
  };
}

/**
 * Reads a certificate from PEM (`CERTIFICATE`, also `X509 CERTIFICATE` and OpenSSL's `TRUSTED
 * CERTIFICATE`) or DER, whatever the file name. A PEM file with several certificates gives the first.
 * Tolerates what KSeF issues: ECDSA AlgorithmIdentifiers with explicit NULL parameters, names over
 * 64 characters, UTF8String everywhere.
 * @param input file content: PEM text or DER bytes, at most {@link MAX_OBJECT_BYTES}
 * @returns the certificate's fields (see {@link CertificateInfo})
 * @throws {KsefCertsError} `MALFORMED` when the file is something else ("This is a private key, not a
 *   certificate.", `details.detected`) or damaged; `TOO_LARGE` over the limit; `UNSUPPORTED` when the
 *   public key algorithm cannot be read by node:crypto
 */
export function parseCertificate(input: BytesInput): CertificateInfo {
  const [first] = locateX509Objects(input, "certificate");
  if (first === undefined) throw malformed("certificate file", "it holds no certificate");
  return readCertificate(first.der, first.node);
}

/**
 * Reads every certificate of a PEM file (a chain or bundle, in file order) or the one certificate of a DER file.
 * @param input file content: PEM text or DER bytes, at most {@link MAX_OBJECT_BYTES}
 * @returns the certificates in file order (never empty)
 * @throws {KsefCertsError} as {@link parseCertificate}
 */
export function parseCertificates(input: BytesInput): CertificateInfo[] {
  return locateX509Objects(input, "certificate").map((o) => readCertificate(o.der, o.node));
}

/**
 * Whether `certificate` was signed by the key of `issuer` (signature only: no name, validity or
 * extension checks; use it to tell which CA issued a certificate, not to build trust).
 * @param certificate the certificate to check (DER or parsed)
 * @param issuer the presumed issuer's public key or certificate
 * @throws {KsefCertsError} `MALFORMED` when `certificate` is not a certificate
 */
export function isSignedBy(certificate: CertificateInfo | Uint8Array, issuer: CertificateInfo | KeyObject): boolean {
  const der = certificate instanceof Uint8Array ? certificate : certificate.der;
  const [tbsNode, algNode, sigNode] = readSequence(parseDer(der, "certificate"), "certificate");
  const signature = readSignatureAlgorithm(algNode, "certificate signature algorithm");
  const key = "publicKey" in issuer ? issuer.publicKey : issuer;
  return verifySignature(signature.algorithm, encodedBytes(tbsNode as AsnNode), readSignatureValue(sigNode, "certificate"), key);
}
