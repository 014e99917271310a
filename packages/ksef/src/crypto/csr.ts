/**
 * PKCS#10 certificate signing requests for KSeF enrollment (`POST /certificates/enrollments`).
 *
 * Written with @peculiar/x509's `Pkcs10CertificateRequestGenerator` over WebCrypto: it takes the
 * subject as explicit (OID, string type, value) triples, keeps their order, imposes no X.520 length
 * cap (a 150-character CN goes through byte-exact) and writes ecdsa-with-SHA256 without parameters
 * and a DER ECDSA signature, which is what KSeF demands (observed: PRD rejected a CSR
 * with NULL parameters and with non-ASCII PrintableString, error 25004; docs/ksef.md "CSR subject rules"). Read back with asn1js and
 * verified with node:crypto over the CertificationRequestInfo bytes as encoded.
 * Sources: RFC 2986 §4, ksef-docs `certyfikaty-KSeF.md`; the official C# client CIRFMF/ksef-client-csharp (subject order and string types).
 */
import "reflect-metadata";
import { createPublicKey, type KeyObject, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { assertNoViolations, KsefCertsError, type Violation } from "../errors.js";
import { type AsnNode, encodedBytes, malformed, readSequence } from "./asn1.js";
import { DN_OID, formatName, isWellFormedText, PRINTABLE_STRING, readName } from "./dn.js";
import type { BytesInput } from "./encoding.js";
import { assertKsefKey, describeKey } from "./key-description.js";
import type { KeyPair } from "./keys.js";
import type { DnAttribute, EnrollmentData, KeyDescription } from "./types.js";
import { locateX509Objects, readSignatureAlgorithm, readSignatureValue, readSubjectPublicKey, verifySignature } from "./x509.js";

/** What {@link parseCsr} reads from a CSR. */
export interface CsrInfo {
  /** The CSR, DER, exactly as read (for PEM input: the decoded block). */
  readonly der: Uint8Array;
  /** Subject attributes in CSR order, with their string types, values exactly as encoded. */
  readonly subject: readonly DnAttribute[];
  /** One-line subject, e.g. `CN=Jan Kowalski, SN=Kowalski, G=Jan, C=PL, serialNumber=PNOPL-44051401458`. */
  readonly subjectText: string;
  /** The public key the CSR asks to certify. */
  readonly publicKey: KeyObject;
  /** What that key is and whether KSeF accepts it (EC P-256 or RSA-2048). */
  readonly keyDescription: KeyDescription;
  /** Signature algorithm, OpenSSL name (`ecdsa-with-SHA256`, `sha256WithRSAEncryption`, `RSASSA-PSS`) or dotted OID. */
  readonly signatureAlgorithm: string;
  /** Whether the signature AlgorithmIdentifier carries explicit NULL parameters (KSeF PRD rejected that for ECDSA). */
  readonly signatureAlgorithmHasNullParameters: boolean;
  /** Whether the self-signature verifies with the CSR's own public key over the CertificationRequestInfo as encoded. */
  readonly signatureValid: boolean;
}

/** Enrollment-data fields in the order the official C# client writes them (CIRFMF/ksef-client-csharp). */
const SUBJECT_ORDER: readonly { readonly field: keyof EnrollmentData; readonly oid: string; readonly printable: boolean }[] = [
  { field: "commonName", oid: DN_OID.commonName, printable: false },
  { field: "surname", oid: DN_OID.surname, printable: false },
  { field: "givenName", oid: DN_OID.givenName, printable: false },
  { field: "organizationName", oid: DN_OID.organizationName, printable: false },
  { field: "organizationIdentifier", oid: DN_OID.organizationIdentifier, printable: false },
  { field: "countryName", oid: DN_OID.countryName, printable: true },
  { field: "serialNumber", oid: DN_OID.serialNumber, printable: true },
  { field: "uniqueIdentifier", oid: DN_OID.uniqueIdentifier, printable: false },
];

/** The subject attributes to write, after checking every rule; all violations are reported together. */
function subjectAttributes(data: EnrollmentData): { oid: string; value: string; printable: boolean }[] {
  const violations: Violation[] = [];
  const attrs: { oid: string; value: string; printable: boolean }[] = [];
  for (const { field, oid, printable } of SUBJECT_ORDER) {
    const raw: unknown = data[field];
    if (raw !== undefined && raw !== null && typeof raw !== "string") {
      violations.push({ field, rule: "csr.subject.type", message: `${field} must be text` });
      continue;
    }
    const value = raw ?? "";
    if ((field === "commonName" || field === "countryName") && value.trim() === "") {
      violations.push({ field, rule: "csr.subject.required", message: `${field} is required and must not be blank` });
      continue;
    }
    if (value === "") continue;
    if (printable && !PRINTABLE_STRING.test(value)) {
      violations.push({
        field,
        rule: "csr.subject.printableString",
        message: `${field} has characters a PrintableString cannot hold (allowed: A-Z a-z 0-9 space ' ( ) + , - . / : = ?)`,
        params: { allowed: "A-Za-z0-9 '()+,-./:=?" },
      });
      continue;
    }
    if (!isWellFormedText(value)) {
      violations.push({ field, rule: "csr.subject.unicode", message: `${field} is not well-formed Unicode text (lone surrogate)` });
      continue;
    }
    attrs.push({ oid, value, printable });
  }
  assertNoViolations(violations, "The enrollment data cannot be written into a CSR");
  return attrs;
}

function spkiOf(key: KeyObject): Buffer {
  return (key.type === "private" ? createPublicKey(key) : key).export({ type: "spki", format: "der" });
}

/** Refuses keys KSeF will not certify (25010) and a public key that is not the private key's. */
function checkKeys(keys: KeyPair): KeyDescription {
  if (keys.privateKey.type !== "private") {
    throw new KsefCertsError("VALIDATION", "The key given to sign the CSR is not a private key.", {
      hint: "Pass the private key of the pair (a CSR is signed with it).",
      violations: [{ field: "privateKey", rule: "csr.key.private", message: "privateKey must be a private key" }],
    });
  }
  const description = assertKsefKey(keys.privateKey, { what: "The key given for the CSR", hint: "Generate a new EC P-256 key pair for this certificate." });
  if (!spkiOf(keys.privateKey).equals(spkiOf(keys.publicKey))) {
    throw new KsefCertsError("KEY_MISMATCH", "The public key does not belong to the private key given for the CSR.", {
      hint: "Use the public and private key of the same pair.",
    });
  }
  return description;
}

/**
 * Builds the PKCS#10 CSR KSeF expects for `POST /certificates/enrollments` (send it base64-encoded DER).
 * Subject: every non-empty enrollment-data value, one attribute per RDN, in the C# client's order
 * CN, SN, G, O, organizationIdentifier, C, serialNumber, uniqueIdentifier; values byte for byte (no
 * trimming, no length cap); UTF8String except C and serialNumber, which are PrintableString.
 * Signature: ecdsa-with-SHA256 without parameters, DER-encoded (EC P-256), or sha256WithRSAEncryption
 * with NULL parameters, PKCS#1 v1.5 (RSA-2048). Source: ksef-docs `certyfikaty-KSeF.md`; the official C# client CIRFMF/ksef-client-csharp.
 * @param enrollmentData the values from `GET /certificates/enrollments/data`, unchanged
 * @param keys the key pair to certify (see generateKeyPair)
 * @returns the CSR, DER
 * @throws {KsefCertsError} `VALIDATION` (every problem in `violations`, `field` = enrollment-data name) when
 *   commonName or countryName is blank, countryName or serialNumber has characters outside PrintableString,
 *   or a value is not well-formed Unicode; `UNSUPPORTED` for a key KSeF does not certify (e.g. P-384,
 *   RSA-3072); `KEY_MISMATCH` when the public key is not the private key's
 */
export async function createCsr(enrollmentData: EnrollmentData, keys: KeyPair): Promise<Uint8Array> {
  const attrs = subjectAttributes(enrollmentData);
  const description = checkKeys(keys);
  const ec = description.type === "ec";
  const importAlgorithm = ec ? { name: "ECDSA", namedCurve: "P-256" } : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const subtle = webcrypto.subtle;
  const privateKey = await subtle.importKey("pkcs8", keys.privateKey.export({ type: "pkcs8", format: "der" }), importAlgorithm, false, ["sign"]);
  const publicKey = await subtle.importKey("spki", spkiOf(keys.publicKey), importAlgorithm, true, ["verify"]);
  const name = new x509.Name(attrs.map((a) => ({ [a.oid]: [a.printable ? { printableString: a.value } : { utf8String: a.value }] })));
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name,
      keys: { privateKey, publicKey },
      signingAlgorithm: ec ? { name: "ECDSA", hash: "SHA-256" } : { name: "RSASSA-PKCS1-v1_5" },
    },
    // Node's webcrypto is a full WebCrypto; the DOM lib that xadesjs's typings pull in declares an
    // Ed25519 overload @types/node lacks, so the two `Crypto` types differ only on paper.
    webcrypto as unknown as Crypto,
  );
  return new Uint8Array(csr.rawData);
}

/**
 * Reads a CSR from PEM (`CERTIFICATE REQUEST` or `NEW CERTIFICATE REQUEST`) or DER and checks its
 * self-signature, so a CSR can be inspected before it is sent (subject as KSeF will see it, key
 * KSeF accepts or not, signature algorithm, NULL parameters).
 * @param input file content: PEM text or DER bytes, at most MAX_OBJECT_BYTES (64 KiB)
 * @returns subject, public key, signature algorithm and whether the signature verifies
 * @throws {KsefCertsError} `MALFORMED` when the file is something else ("This is a certificate, not a
 *   certificate signing request (CSR).", `details.detected`) or damaged; `TOO_LARGE` over the limit;
 *   `UNSUPPORTED` when node:crypto cannot read the public key algorithm
 */
export function parseCsr(input: BytesInput): CsrInfo {
  const [located] = locateX509Objects(input, "csr");
  if (located === undefined) throw malformed("certificate request file", "it holds no CSR");
  const [infoNode, algNode, sigNode] = readSequence(located.node, "certificate request");
  const info = readSequence(infoNode, "certificate request");
  if (info.length !== 4) throw malformed("certificate request", "CertificationRequestInfo must have four fields");
  const subject = readName(info[1], "certificate request subject");
  const { publicKey } = readSubjectPublicKey(info[2], "certificate request");
  const signature = readSignatureAlgorithm(algNode, "certificate request signature algorithm");
  const signatureValue = readSignatureValue(sigNode, "certificate request");
  return {
    der: located.der,
    subject,
    subjectText: formatName(subject),
    publicKey,
    keyDescription: describeKey(publicKey),
    signatureAlgorithm: signature.name,
    signatureAlgorithmHasNullParameters: signature.hasNullParameters,
    signatureValid: verifySignature(signature.algorithm, encodedBytes(infoNode as AsnNode), signatureValue, publicKey),
  };
}
