/**
 * What certificates and CSRs share: locating DER objects in PEM or DER files (with a clear message
 * when the file is something else), signature AlgorithmIdentifiers, signature verification with
 * node:crypto, and reading a SubjectPublicKeyInfo.
 *
 * Sources: RFC 5280 §4.1.1.2-§4.1.1.3 (signature), RFC 5758 §3.2 (ECDSA, parameters absent),
 * RFC 4055 §3.1 and §5 (RSA PKCS#1 v1.5 and PSS), RFC 8410 §6 (Ed25519), RFC 7468 (PEM labels).
 */
import { constants, createPublicKey, type KeyObject, verify } from "node:crypto";
import * as asn1js from "asn1js";
import { KsefCertsError } from "../errors.js";
import {
  type AlgorithmIdentifier,
  type AsnNode,
  classifyDer,
  type DerKind,
  encodedBytes,
  isAbsentOrNull,
  malformed,
  oidName,
  parseDer,
  readAlgorithmIdentifier,
  readExplicit,
  readOid,
  readSequence,
} from "./asn1.js";
import { type BytesInput, decodePem, looksLikePem, MAX_OBJECT_BYTES, toBytes } from "./encoding.js";
import { msg, type MessageRef } from "../messages/index.js";

/** A signature algorithm we can name and verify. */
interface SignatureAlgorithmSpec {
  readonly name: string;
  /** node:crypto digest name; `null` for Ed25519 (no pre-hash). */
  readonly hash: string | null;
  readonly key: "ec" | "rsa" | "rsa-pss" | "ed25519";
}

/** Signature algorithms by OID (RFC 5758 §3.2, RFC 4055 §5, RFC 3279 §2.2, RFC 8410 §3), named as OpenSSL names them. */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, SignatureAlgorithmSpec>> = {
  "1.2.840.10045.4.1": { name: "ecdsa-with-SHA1", hash: "sha1", key: "ec" },
  "1.2.840.10045.4.3.1": { name: "ecdsa-with-SHA224", hash: "sha224", key: "ec" },
  "1.2.840.10045.4.3.2": { name: "ecdsa-with-SHA256", hash: "sha256", key: "ec" },
  "1.2.840.10045.4.3.3": { name: "ecdsa-with-SHA384", hash: "sha384", key: "ec" },
  "1.2.840.10045.4.3.4": { name: "ecdsa-with-SHA512", hash: "sha512", key: "ec" },
  "1.2.840.113549.1.1.5": { name: "sha1WithRSAEncryption", hash: "sha1", key: "rsa" },
  "1.2.840.113549.1.1.14": { name: "sha224WithRSAEncryption", hash: "sha224", key: "rsa" },
  "1.2.840.113549.1.1.11": { name: "sha256WithRSAEncryption", hash: "sha256", key: "rsa" },
  "1.2.840.113549.1.1.12": { name: "sha384WithRSAEncryption", hash: "sha384", key: "rsa" },
  "1.2.840.113549.1.1.13": { name: "sha512WithRSAEncryption", hash: "sha512", key: "rsa" },
  "1.2.840.113549.1.1.10": { name: "RSASSA-PSS", hash: null, key: "rsa-pss" },
  "1.3.101.112": { name: "ED25519", hash: null, key: "ed25519" },
};

/** Digest OIDs allowed inside RSASSA-PSS parameters (RFC 4055 §2.1). */
const PSS_HASHES: Readonly<Record<string, string>> = {
  "1.3.14.3.2.26": "sha1",
  "2.16.840.1.101.3.4.2.4": "sha224",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};
const MGF1 = "1.2.840.113549.1.1.8";

/** A signature AlgorithmIdentifier, read. */
export interface SignatureAlgorithmInfo {
  /** OpenSSL-style name (`ecdsa-with-SHA256`, `sha256WithRSAEncryption`, `RSASSA-PSS`), or the dotted OID when unknown. */
  readonly name: string;
  readonly oid: string;
  /** Whether the parameters field is an explicit ASN.1 NULL (KSeF-issued ECDSA certificates carry one). */
  readonly hasNullParameters: boolean;
  /** The raw AlgorithmIdentifier, for verification. */
  readonly algorithm: AlgorithmIdentifier;
}

/**
 * Reads a signature AlgorithmIdentifier (any parameters tolerated: absent, NULL or PSS parameters).
 * @param node the AlgorithmIdentifier node
 * @param what the field, for the message
 * @throws {KsefCertsError} `MALFORMED` when it is not an AlgorithmIdentifier
 */
export function readSignatureAlgorithm(node: AsnNode | undefined, what: string): SignatureAlgorithmInfo {
  const algorithm = readAlgorithmIdentifier(node, what);
  const params = algorithm.params;
  const hasNullParameters = params !== undefined && isAbsentOrNull(params);
  return { name: SIGNATURE_ALGORITHMS[algorithm.oid]?.name ?? oidName(algorithm.oid), oid: algorithm.oid, hasNullParameters, algorithm };
}

/** PSS parameters (RFC 4055 §3.1) with their defaults: SHA-1, MGF1-SHA-1, salt 20, trailer 1. */
function pssParameters(params: AsnNode | undefined): { hash: string; saltLength: number } | undefined {
  const items = params === undefined ? [] : readSequence(params, "RSASSA-PSS parameters");
  let hash = "sha1";
  let mgfHash = "sha1";
  let saltLength = 20;
  for (const item of items) {
    if (item.idBlock.tagClass !== 3) return undefined;
    const inner = readExplicit(item, item.idBlock.tagNumber, "RSASSA-PSS parameters");
    switch (item.idBlock.tagNumber) {
      case 0: {
        const h = PSS_HASHES[readAlgorithmIdentifier(inner, "RSASSA-PSS hash").oid];
        if (h === undefined) return undefined;
        hash = h;
        break;
      }
      case 1: {
        const mgf = readAlgorithmIdentifier(inner, "RSASSA-PSS mask generation");
        if (mgf.oid !== MGF1) return undefined;
        const h = PSS_HASHES[readAlgorithmIdentifier(mgf.params, "RSASSA-PSS MGF1 hash").oid];
        if (h === undefined) return undefined;
        mgfHash = h;
        break;
      }
      case 2:
        if (!(inner instanceof asn1js.Integer)) return undefined;
        saltLength = inner.valueBlock.valueDec;
        break;
      case 3:
        if (!(inner instanceof asn1js.Integer) || inner.valueBlock.valueDec !== 1) return undefined;
        break;
      default:
        return undefined;
    }
  }
  // node:crypto's MGF1 always uses the signature digest; other combinations cannot be checked here.
  return mgfHash === hash ? { hash, saltLength } : undefined;
}

/**
 * Verifies `signature` over `data` with `publicKey` per the AlgorithmIdentifier (ECDSA DER-encoded
 * as X.509 requires, RSA PKCS#1 v1.5 or PSS, Ed25519).
 * @param algorithm the signature algorithm as read from the object
 * @param data the signed bytes exactly as encoded in the file (TBSCertificate, CertificationRequestInfo)
 * @param signature the signature bytes (content of the BIT STRING, without the unused-bits byte)
 * @param publicKey the key to verify with
 * @returns `true` only when the signature verifies; `false` for a wrong signature, an unknown
 *   algorithm, or a key of the wrong type (never throws)
 */
export function verifySignature(algorithm: AlgorithmIdentifier, data: Uint8Array, signature: Uint8Array, publicKey: KeyObject): boolean {
  const spec = SIGNATURE_ALGORITHMS[algorithm.oid];
  if (spec === undefined) return false;
  const keyType = publicKey.asymmetricKeyType;
  try {
    switch (spec.key) {
      case "ec":
        return keyType === "ec" && verify(spec.hash, data, { key: publicKey, dsaEncoding: "der" }, signature);
      case "rsa":
        return keyType === "rsa" && verify(spec.hash, data, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
      case "rsa-pss": {
        const pss = pssParameters(algorithm.params);
        if (pss === undefined || (keyType !== "rsa" && keyType !== "rsa-pss")) return false;
        return verify(pss.hash, data, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pss.saltLength }, signature);
      }
      case "ed25519":
        return keyType === "ed25519" && verify(null, data, publicKey, signature);
    }
  } catch {
    // A malformed signature value (e.g. not a DER ECDSA-Sig-Value) is simply an invalid signature.
    return false;
  }
}

/**
 * Reads the content of a signature BIT STRING (unused-bits byte must be 0).
 * @param node the BIT STRING node
 * @param what the field, for the message
 * @throws {KsefCertsError} `MALFORMED` when it is not a whole-byte BIT STRING
 */
export function readSignatureValue(node: AsnNode | undefined, what: string): Uint8Array {
  if (node?.idBlock.tagClass !== 1 || node.idBlock.tagNumber !== 3 || node.idBlock.isConstructed) throw malformed(what, "the signature is not a BIT STRING");
  const bytes = (node.valueBlock as unknown as { valueHexView?: Uint8Array }).valueHexView ?? new Uint8Array(0);
  // asn1js keeps the unused-bits count apart from the content for a parsed BIT STRING.
  const unused = (node.valueBlock as unknown as { unusedBits?: number }).unusedBits ?? 0;
  if (unused !== 0) throw malformed(what, "the signature is not a whole number of bytes");
  return bytes;
}

/**
 * Reads a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) into a node:crypto public key.
 * @param node the SPKI node
 * @param what the object, for the message (e.g. "certificate")
 * @returns the key and the SPKI DER exactly as encoded
 * @throws {KsefCertsError} `MALFORMED` when it is not an SPKI; `UNSUPPORTED` when node:crypto cannot use the key algorithm
 */
export function readSubjectPublicKey(node: AsnNode | undefined, what: string): { publicKey: KeyObject; spki: Uint8Array } {
  const items = readSequence(node, `${what} public key`);
  const algorithm = readAlgorithmIdentifier(items[0], `${what} public key`);
  const spki = encodedBytes(node as AsnNode);
  try {
    return { publicKey: createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" }), spki };
  } catch (cause) {
    const curve = algorithm.params instanceof asn1js.ObjectIdentifier ? ` (${oidName(readOid(algorithm.params, what))})` : "";
    throw new KsefCertsError("UNSUPPORTED", msg("x509.publicKeyUnreadable", { what, algorithm: `${oidName(algorithm.oid)}${curve}` }), {
      hint: msg("keys.ksefKeyTypes.hint"),
      details: { scheme: oidName(algorithm.oid) },
      cause,
    });
  }
}

/** How to name a DER kind in "this is X, not Y" messages. */
const KIND_NAMES: Readonly<Record<DerKind, string>> = {
  pkcs8: "a private key",
  "pkcs8-encrypted": "an encrypted private key",
  pkcs1: "an RSA private key",
  sec1: "an EC private key",
  spki: "a public key",
  "pkcs1-public": "an RSA public key",
  certificate: "a certificate",
  csr: "a certificate signing request (CSR)",
  pkcs12: "a PKCS#12 (.p12/.pfx) file",
  pkcs7: "a PKCS#7/CMS object (e.g. a .p7b bundle)",
  unknown: "something else",
};

/** PEM labels (RFC 7468 §5-§13 and OpenSSL's) by the kind they hold. */
const PEM_LABEL_KINDS: Readonly<Record<string, DerKind>> = {
  CERTIFICATE: "certificate",
  "X509 CERTIFICATE": "certificate",
  "TRUSTED CERTIFICATE": "certificate",
  "CERTIFICATE REQUEST": "csr",
  "NEW CERTIFICATE REQUEST": "csr",
  "PRIVATE KEY": "pkcs8",
  "ENCRYPTED PRIVATE KEY": "pkcs8-encrypted",
  "RSA PRIVATE KEY": "pkcs1",
  "EC PRIVATE KEY": "sec1",
  "PUBLIC KEY": "spki",
  "RSA PUBLIC KEY": "pkcs1-public",
  PKCS12: "pkcs12",
  PKCS7: "pkcs7",
  CMS: "pkcs7",
};

/** What a locator looks for: `certificate` or `csr`. */
export type X509ObjectKind = "certificate" | "csr";

const OBJECT_HINTS: Readonly<Record<X509ObjectKind, MessageRef>> = {
  certificate: msg("x509.notACertificate.hint"),
  csr: msg("x509.notACsr.hint"),
};

function notA(expected: X509ObjectKind, kind: DerKind, container: "pem" | "der", label?: string): KsefCertsError {
  const csr = expected === "csr";
  const message =
    kind === "unknown"
      ? label === undefined
        ? msg(csr ? "x509.notACsr" : "x509.notACertificate")
        : msg(csr ? "x509.notACsr.pemBlock" : "x509.notACertificate.pemBlock", { label })
      : msg(csr ? "x509.notACsr.other" : "x509.notACertificate.other", { thing: KIND_NAMES[kind] });
  return new KsefCertsError("MALFORMED", message, {
    hint: OBJECT_HINTS[expected],
    details: { detected: kind, container, ...(label === undefined ? {} : { label }) },
  });
}

/**
 * The length of the first DER TLV in `bytes` (for OpenSSL's `TRUSTED CERTIFICATE`, which appends
 * trust data after the certificate), or `undefined` when the header is not a definite-length SEQUENCE.
 */
function firstTlvLength(bytes: Uint8Array): number | undefined {
  if (bytes[0] !== 0x30 || bytes.length < 2) return undefined;
  const first = bytes[1] ?? 0;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 4 || bytes.length < 2 + n) return undefined;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + (bytes[2 + i] ?? 0);
  return 2 + n + length <= bytes.length ? 2 + n + length : undefined;
}

/** One object located by {@link locateX509Objects}: its DER and parsed top node. */
export interface LocatedObject {
  readonly der: Uint8Array;
  readonly node: AsnNode;
  readonly container: "pem" | "der";
}

/**
 * Finds the certificates (or CSRs) in a PEM or DER file, refusing anything else with a message that
 * says what the file is instead ("This is a private key, not a certificate.").
 * @param input file content (PEM text or DER bytes)
 * @param expected `certificate` or `csr`
 * @param limitBytes size limit (default {@link MAX_OBJECT_BYTES})
 * @returns the objects in file order (a DER file holds exactly one)
 * @throws {KsefCertsError} `TOO_LARGE` over the limit; `MALFORMED` when empty, damaged, or another kind of object
 */
export function locateX509Objects(input: BytesInput, expected: X509ObjectKind, limitBytes = MAX_OBJECT_BYTES): LocatedObject[] {
  const what = expected === "csr" ? "certificate request" : "certificate";
  const bytes = toBytes(input, limitBytes, `${what} file`);
  if (!looksLikePem(bytes)) {
    let node: AsnNode;
    try {
      node = parseDer(bytes, what);
    } catch {
      throw notA(expected, "unknown", "der");
    }
    const kind = classifyDer(node);
    if (kind !== expected) throw notA(expected, kind, "der");
    return [{ der: bytes, node, container: "der" }];
  }
  const text = typeof input === "string" ? input : new TextDecoder().decode(bytes);
  const blocks = decodePem(text);
  const wanted = blocks.filter((b) => PEM_LABEL_KINDS[b.label] === expected);
  if (wanted.length === 0) {
    const first = blocks[0];
    if (first === undefined) throw malformed(`${what} file`, "it has no complete PEM block");
    throw notA(expected, PEM_LABEL_KINDS[first.label] ?? "unknown", "pem", PEM_LABEL_KINDS[first.label] === undefined ? first.label : undefined);
  }
  return wanted.map((block) => {
    let der = block.der;
    if (block.label === "TRUSTED CERTIFICATE") der = der.subarray(0, firstTlvLength(der) ?? der.length);
    const node = parseDer(der, what);
    const kind = classifyDer(node);
    if (kind !== expected) throw notA(expected, kind, "pem", block.label);
    return { der, node, container: "pem" as const };
  });
}
