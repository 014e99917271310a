/**
 * Small ASN.1 helpers over asn1js shared by the key, PKCS#12, certificate and CSR code.
 *
 * Every reader here throws a typed `MALFORMED` {@link KsefCertsError} instead of returning
 * asn1js' loose objects, so callers can walk a structure with plain code and still never crash
 * on hostile or damaged input.
 */
import * as asn1js from "asn1js";
import { KsefCertsError } from "../errors.js";
import { msg } from "../messages/index.js";

/** An asn1js node of any type (what {@link parseDer} returns and the readers accept). */
export type AsnNode = asn1js.AsnType;

/**
 * Object identifiers used by the toolkit, by OpenSSL short name.
 * Sources: RFC 8018 App. C (PBES1/PBES2/PBKDF2/PRFs), RFC 7914 §7 (scrypt), RFC 3565 / NIST CSOR (AES),
 * RFC 7292 App. D (PKCS#12 PBE, bags, attributes), RFC 5652 (CMS content types), RFC 5480 / RFC 8017 (key types).
 */
export const OID = {
  // PKCS#5 v2.1 (RFC 8018)
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
  pbmac1: "1.2.840.113549.1.5.14",
  scrypt: "1.3.6.1.4.1.11591.4.11",
  hmacWithSHA1: "1.2.840.113549.2.7",
  hmacWithSHA224: "1.2.840.113549.2.8",
  hmacWithSHA256: "1.2.840.113549.2.9",
  hmacWithSHA384: "1.2.840.113549.2.10",
  hmacWithSHA512: "1.2.840.113549.2.11",
  aes128Cbc: "2.16.840.1.101.3.4.1.2",
  aes192Cbc: "2.16.840.1.101.3.4.1.22",
  aes256Cbc: "2.16.840.1.101.3.4.1.42",
  desEde3Cbc: "1.2.840.113549.3.7",
  // PKCS#12 PBE (RFC 7292 App. C)
  pbeWithSHAAnd128BitRC4: "1.2.840.113549.1.12.1.1",
  pbeWithSHAAnd40BitRC4: "1.2.840.113549.1.12.1.2",
  pbeWithSHAAnd3KeyTripleDesCbc: "1.2.840.113549.1.12.1.3",
  pbeWithSHAAnd2KeyTripleDesCbc: "1.2.840.113549.1.12.1.4",
  pbeWithSHAAnd128BitRC2Cbc: "1.2.840.113549.1.12.1.5",
  pbeWithSHAAnd40BitRC2Cbc: "1.2.840.113549.1.12.1.6",
  // Digests (MAC of PKCS#12, RFC 7292 §4)
  sha1: "1.3.14.3.2.26",
  sha224: "2.16.840.1.101.3.4.2.4",
  sha256: "2.16.840.1.101.3.4.2.1",
  sha384: "2.16.840.1.101.3.4.2.2",
  sha512: "2.16.840.1.101.3.4.2.3",
  // CMS content types (RFC 5652 §4-§8)
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  envelopedData: "1.2.840.113549.1.7.3",
  encryptedData: "1.2.840.113549.1.7.6",
  // PKCS#12 bags and attributes (RFC 7292 §4.2, PKCS#9)
  keyBag: "1.2.840.113549.1.12.10.1.1",
  pkcs8ShroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  certBag: "1.2.840.113549.1.12.10.1.3",
  crlBag: "1.2.840.113549.1.12.10.1.4",
  secretBag: "1.2.840.113549.1.12.10.1.5",
  safeContentsBag: "1.2.840.113549.1.12.10.1.6",
  x509Certificate: "1.2.840.113549.1.9.22.1",
  friendlyName: "1.2.840.113549.1.9.20",
  localKeyId: "1.2.840.113549.1.9.21",
  // Key types (RFC 8017 App. A, RFC 5480 §2.1.1)
  rsaEncryption: "1.2.840.113549.1.1.1",
  ecPublicKey: "1.2.840.10045.2.1",
  prime256v1: "1.2.840.10045.3.1.7",
} as const;

/**
 * OpenSSL-style names of the OIDs above plus legacy schemes we only name (PBES1, RC2, GCM), so
 * messages can say `pbeWithMD5AndDES-CBC` instead of a dotted number.
 */
export const OID_NAMES: Readonly<Record<string, string>> = {
  [OID.pbes2]: "PBES2",
  [OID.pbkdf2]: "PBKDF2",
  [OID.pbmac1]: "PBMAC1",
  [OID.scrypt]: "scrypt",
  [OID.hmacWithSHA1]: "hmacWithSHA1",
  [OID.hmacWithSHA224]: "hmacWithSHA224",
  [OID.hmacWithSHA256]: "hmacWithSHA256",
  [OID.hmacWithSHA384]: "hmacWithSHA384",
  [OID.hmacWithSHA512]: "hmacWithSHA512",
  "1.2.840.113549.2.12": "hmacWithSHA512-224",
  "1.2.840.113549.2.13": "hmacWithSHA512-256",
  [OID.aes128Cbc]: "aes-128-cbc",
  [OID.aes192Cbc]: "aes-192-cbc",
  [OID.aes256Cbc]: "aes-256-cbc",
  "2.16.840.1.101.3.4.1.6": "aes-128-gcm",
  "2.16.840.1.101.3.4.1.26": "aes-192-gcm",
  "2.16.840.1.101.3.4.1.46": "aes-256-gcm",
  [OID.desEde3Cbc]: "des-ede3-cbc",
  "1.3.14.3.2.7": "des-cbc",
  "1.2.840.113549.3.2": "rc2-cbc",
  "1.2.840.113549.3.9": "rc5-cbc",
  "1.2.840.113549.1.5.1": "pbeWithMD2AndDES-CBC",
  "1.2.840.113549.1.5.3": "pbeWithMD5AndDES-CBC",
  "1.2.840.113549.1.5.4": "pbeWithMD2AndRC2-CBC",
  "1.2.840.113549.1.5.6": "pbeWithMD5AndRC2-CBC",
  "1.2.840.113549.1.5.10": "pbeWithSHA1AndDES-CBC",
  "1.2.840.113549.1.5.11": "pbeWithSHA1AndRC2-CBC",
  [OID.pbeWithSHAAnd128BitRC4]: "pbeWithSHAAnd128BitRC4",
  [OID.pbeWithSHAAnd40BitRC4]: "pbeWithSHAAnd40BitRC4",
  [OID.pbeWithSHAAnd3KeyTripleDesCbc]: "pbeWithSHAAnd3-KeyTripleDES-CBC",
  [OID.pbeWithSHAAnd2KeyTripleDesCbc]: "pbeWithSHAAnd2-KeyTripleDES-CBC",
  [OID.pbeWithSHAAnd128BitRC2Cbc]: "pbeWithSHAAnd128BitRC2-CBC",
  [OID.pbeWithSHAAnd40BitRC2Cbc]: "pbeWithSHAAnd40BitRC2-CBC",
  [OID.sha1]: "sha1",
  [OID.sha224]: "sha224",
  [OID.sha256]: "sha256",
  [OID.sha384]: "sha384",
  [OID.sha512]: "sha512",
  "1.2.840.113549.2.5": "md5",
  [OID.data]: "pkcs7-data",
  [OID.signedData]: "pkcs7-signedData",
  [OID.envelopedData]: "pkcs7-envelopedData",
  [OID.encryptedData]: "pkcs7-encryptedData",
  [OID.rsaEncryption]: "rsaEncryption",
  [OID.ecPublicKey]: "id-ecPublicKey",
};

/**
 * The OpenSSL-style name of `oid`, or the dotted OID itself when we have no name for it.
 * @param oid dotted object identifier
 */
export function oidName(oid: string): string {
  return OID_NAMES[oid] ?? oid;
}

/**
 * Limits applied to every parse: nesting deeper than any real PKCS#8/PKCS#12/X.509 structure and a node
 * budget; asn1js enforces both, so hostile input cannot blow the stack or the heap.
 */
const PARSE_LIMITS = { maxDepth: 64, maxNodes: 100_000, parseEmbedded: false } as const;

/**
 * Parses one BER/DER object that must span all of `bytes`.
 * BER (indefinite lengths, constructed strings) is accepted because Windows and Java write PKCS#12 that way.
 * @param bytes the encoded object
 * @param what what the bytes should be, for the message (e.g. "private key")
 * @returns the top-level asn1js node
 * @throws {KsefCertsError} `MALFORMED` when the bytes are not one complete ASN.1 object
 */
export function parseDer(bytes: Uint8Array, what: string): AsnNode {
  let parsed: asn1js.FromBerResult;
  try {
    parsed = asn1js.fromBER(bytes, PARSE_LIMITS);
  } catch (cause) {
    throw malformed(what, "it is not valid ASN.1", cause);
  }
  if (parsed.offset === -1 || parsed.result.error !== "") throw malformed(what, "it is not valid ASN.1 (DER)");
  if (parsed.offset !== bytes.byteLength) throw malformed(what, `it has ${bytes.byteLength - parsed.offset} bytes of trailing data after the ASN.1 object`);
  return parsed.result;
}

/**
 * The `MALFORMED` error the readers throw: "The <what> is damaged: <reason>."
 * @param what the object being read (e.g. "private key", "PKCS#12 file")
 * @param reason what is wrong, lower case
 * @param cause optional low-level error kept for logs
 */
export function malformed(what: string, reason: string, cause?: unknown): KsefCertsError {
  return new KsefCertsError("MALFORMED", msg("asn1.unreadable", { what, reason }), {
    hint: msg("asn1.unreadable.hint"),
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The elements of a constructed node (empty for a primitive one). */
function children(node: AsnNode): AsnNode[] {
  return node.idBlock.isConstructed ? ((node.valueBlock as unknown as { value?: AsnNode[] }).value ?? []) : [];
}

/** Whether `node` has universal tag `tagNumber` (SEQUENCE 16, SET 17, INTEGER 2, OCTET STRING 4, …). */
function isUniversal(node: AsnNode, tagNumber: number): boolean {
  return node.idBlock.tagClass === 1 && node.idBlock.tagNumber === tagNumber;
}

/**
 * The elements of a SEQUENCE (or SET when `set` is true).
 * @param node the node to read
 * @param what name of the field, for the message
 * @param set read a SET instead of a SEQUENCE
 * @throws {KsefCertsError} `MALFORMED` when `node` is something else
 */
export function readSequence(node: AsnNode | undefined, what: string, set = false): AsnNode[] {
  if (node === undefined || !isUniversal(node, set ? 17 : 16) || !node.idBlock.isConstructed) {
    throw malformed(what, `a ${set ? "SET" : "SEQUENCE"} was expected`);
  }
  return children(node);
}

/**
 * The dotted value of an OBJECT IDENTIFIER.
 * @param node the node to read
 * @param what name of the field, for the message
 * @throws {KsefCertsError} `MALFORMED` when `node` is not an OID
 */
export function readOid(node: AsnNode | undefined, what: string): string {
  if (!(node instanceof asn1js.ObjectIdentifier) || !isUniversal(node, 6)) throw malformed(what, "an object identifier was expected");
  const oid = node.valueBlock.toString();
  if (!/^\d+(\.\d+)+$/.test(oid)) throw malformed(what, "the object identifier is invalid");
  return oid;
}

/**
 * The content of an OCTET STRING, joining the chunks of a BER constructed one; also accepts an
 * IMPLICIT-tagged string (e.g. `[0] IMPLICIT OCTET STRING` in CMS EncryptedContentInfo) when `tagNumber` is given.
 * @param node the node to read
 * @param what name of the field, for the message
 * @param contextTag read `[contextTag] IMPLICIT OCTET STRING` instead of a universal OCTET STRING
 * @throws {KsefCertsError} `MALFORMED` when `node` is not such a string
 */
export function readOctets(node: AsnNode | undefined, what: string, contextTag?: number): Uint8Array {
  const expected =
    contextTag === undefined ? node !== undefined && isUniversal(node, 4) : node?.idBlock.tagClass === 3 && node.idBlock.tagNumber === contextTag;
  if (node === undefined || !expected) throw malformed(what, "an OCTET STRING was expected");
  if (!node.idBlock.isConstructed) return (node.valueBlock as unknown as { valueHexView: Uint8Array }).valueHexView;
  const chunks: Uint8Array[] = [];
  for (const chunk of children(node)) chunks.push(readOctets(chunk, what));
  return Buffer.concat(chunks);
}

/**
 * A non-negative INTEGER that fits `max` (iteration counts, versions, lengths).
 * @param node the node to read
 * @param what name of the field, for the message
 * @param max largest value accepted; larger values throw `tooLarge` if given, else `MALFORMED`
 * @param tooLarge builds the error for a value over `max` (e.g. an `UNSUPPORTED` iteration count)
 * @throws {KsefCertsError} `MALFORMED` when `node` is not a non-negative INTEGER
 */
export function readSmallInteger(node: AsnNode | undefined, what: string, max = Number.MAX_SAFE_INTEGER, tooLarge?: (value: number) => KsefCertsError): number {
  if (!(node instanceof asn1js.Integer) || !isUniversal(node, 2)) throw malformed(what, "an INTEGER was expected");
  const bytes = node.valueBlock.valueHexView;
  if (bytes.length === 0) throw malformed(what, "the INTEGER is empty");
  if ((bytes[0] ?? 0) & 0x80) throw malformed(what, "the INTEGER is negative");
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  // Eight or more significant bytes are at least 2^56: "too large" whatever `max` is, without losing precision.
  let value = bytes.length - start > 7 ? Infinity : 0;
  for (let i = start; i < bytes.length && value !== Infinity; i++) value = value * 256 + (bytes[i] ?? 0);
  if (value > max) throw tooLarge ? tooLarge(value) : malformed(what, `the value is larger than ${max}`);
  return value;
}

/**
 * The inner node of a constructed context-specific tag `[n] EXPLICIT`, or `undefined` when `node`
 * is absent or carries another tag (for OPTIONAL fields).
 * @param node the node to read
 * @param tagNumber the context tag number
 * @param what name of the field, for the message
 * @throws {KsefCertsError} `MALFORMED` when the tag matches but does not hold exactly one element
 */
export function readExplicit(node: AsnNode | undefined, tagNumber: number, what: string): AsnNode | undefined {
  if (node?.idBlock.tagClass !== 3 || node.idBlock.tagNumber !== tagNumber) return undefined;
  const inner = children(node);
  if (inner.length !== 1 || inner[0] === undefined) throw malformed(what, `[${tagNumber}] must hold exactly one element`);
  return inner[0];
}

/** An AlgorithmIdentifier (RFC 5280 §4.1.1.2): the dotted OID and the parameters node, if present. */
export interface AlgorithmIdentifier {
  readonly oid: string;
  readonly params: AsnNode | undefined;
}

/**
 * Reads an AlgorithmIdentifier `SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`.
 * @param node the node to read
 * @param what name of the field, for the message
 * @throws {KsefCertsError} `MALFORMED` when it is not one
 */
export function readAlgorithmIdentifier(node: AsnNode | undefined, what: string): AlgorithmIdentifier {
  const items = readSequence(node, what);
  if (items.length < 1 || items.length > 2) throw malformed(what, "an AlgorithmIdentifier has one or two elements");
  return { oid: readOid(items[0], what), params: items[1] };
}

/**
 * Whether `node` is absent or an ASN.1 NULL (the "no parameters" of an AlgorithmIdentifier).
 * @param node the parameters node
 */
export function isAbsentOrNull(node: AsnNode | undefined): boolean {
  return node === undefined || (isUniversal(node, 5) && !node.idBlock.isConstructed);
}

/**
 * Builds an AlgorithmIdentifier; `params` `null` writes an explicit ASN.1 NULL, `undefined` omits the field.
 * @param oid dotted algorithm OID
 * @param params the parameters node, `null` for NULL, `undefined` for none
 */
export function algorithmIdentifier(oid: string, params?: AsnNode | null): asn1js.Sequence {
  const value: AsnNode[] = [new asn1js.ObjectIdentifier({ value: oid })];
  if (params === null) value.push(new asn1js.Null());
  else if (params !== undefined) value.push(params);
  return new asn1js.Sequence({ value });
}

/**
 * An INTEGER node for a non-negative safe integer (asn1js' own `value` option loses bits above 2^31).
 * @param value 0 .. Number.MAX_SAFE_INTEGER
 */
export function integer(value: number): asn1js.Integer {
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.unshift(rest % 256);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return new asn1js.Integer({ valueHex: Uint8Array.from(bytes) });
}

/**
 * A SEQUENCE node of `value` (for a DER SET OF use {@link sortedSetOf}).
 * @param value the elements in order
 */
export function sequence(value: AsnNode[]): asn1js.Sequence {
  return new asn1js.Sequence({ value });
}

/**
 * A DER `SET OF`: elements sorted by their encodings (X.690 §11.6).
 * @param value the elements in any order
 */
export function sortedSetOf(value: AsnNode[]): asn1js.Set {
  const encoded = value.map((node) => ({ node, der: Buffer.from(node.toBER(false)) }));
  encoded.sort((a, b) => Buffer.compare(a.der, b.der));
  return new asn1js.Set({ value: encoded.map((e) => e.node) });
}

/**
 * An OCTET STRING node holding `bytes`.
 * @param bytes the content
 */
export function octetString(bytes: Uint8Array): asn1js.OctetString {
  return new asn1js.OctetString({ valueHex: bytes });
}

/**
 * A constructed `[tagNumber] EXPLICIT` wrapper around `inner`.
 * @param tagNumber context tag number
 * @param inner the wrapped node
 */
export function explicit(tagNumber: number, inner: AsnNode): asn1js.Constructed {
  return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber }, value: [inner] });
}

/**
 * A primitive `[tagNumber] IMPLICIT OCTET STRING` (e.g. CMS `encryptedContent`, RFC 5652 §6.1).
 * @param tagNumber context tag number
 * @param bytes the content
 */
export function implicitOctets(tagNumber: number, bytes: Uint8Array): asn1js.Primitive {
  return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber }, valueHex: bytes });
}

/**
 * The bytes `node` was parsed from (its exact encoding, BER included), or its DER encoding when it was built.
 * @param node a parsed or built node
 */
export function encodedBytes(node: AsnNode): Uint8Array {
  const view = node.valueBeforeDecodeView;
  return view.byteLength > 0 ? view : toDer(node);
}

/**
 * The DER encoding of `node`.
 * @param node a node built with asn1js
 */
export function toDer(node: AsnNode): Uint8Array {
  return new Uint8Array(node.toBER(false));
}

/**
 * What a DER object is, judged by its shape alone (no OIDs needed), so a reader can tell a user
 * "this is a certificate, not a key":
 * - `pkcs8` PrivateKeyInfo / OneAsymmetricKey (RFC 5958 §2), `pkcs8-encrypted` EncryptedPrivateKeyInfo (§3),
 * - `pkcs1` RSAPrivateKey (RFC 8017 A.1.2), `sec1` ECPrivateKey (RFC 5915 §3),
 * - `spki` SubjectPublicKeyInfo, `pkcs1-public` RSAPublicKey,
 * - `certificate` X.509 (RFC 5280 §4.1), `csr` PKCS#10 (RFC 2986 §4), `pkcs12` PFX (RFC 7292 §4),
 * - `pkcs7` CMS ContentInfo (e.g. a `.p7b` bundle), `unknown` anything else.
 */
export type DerKind = "pkcs8" | "pkcs8-encrypted" | "pkcs1" | "sec1" | "spki" | "pkcs1-public" | "certificate" | "csr" | "pkcs12" | "pkcs7" | "unknown";

/**
 * Classifies a parsed object (see {@link DerKind}). Never throws.
 * @param node the top-level node from {@link parseDer}
 */
export function classifyDer(node: AsnNode): DerKind {
  if (!isUniversal(node, 16) || !node.idBlock.isConstructed) return "unknown";
  const items = children(node);
  const [a, b, c] = items;
  const isSeq = (n: AsnNode | undefined): boolean => n !== undefined && isUniversal(n, 16) && n.idBlock.isConstructed;
  const isInt = (n: AsnNode | undefined): n is asn1js.Integer => n instanceof asn1js.Integer && isUniversal(n, 2);
  const isOctets = (n: AsnNode | undefined): boolean => n !== undefined && isUniversal(n, 4);
  const isAlgId = (n: AsnNode | undefined): boolean => n !== undefined && isSeq(n) && children(n)[0] instanceof asn1js.ObjectIdentifier;
  const intValue = (n: asn1js.Integer): number => (n.valueBlock.valueHexView.length === 1 ? (n.valueBlock.valueHexView[0] ?? -1) : -1);

  if (items.length === 2 && isAlgId(a) && isOctets(b)) return "pkcs8-encrypted";
  if (items.length === 2 && isAlgId(a) && b !== undefined && isUniversal(b, 3)) return "spki";
  if (items.length === 2 && isInt(a) && isInt(b)) return "pkcs1-public";
  if (items.length >= 3 && isInt(a) && isAlgId(b) && isOctets(c)) return "pkcs8";
  if (items.length >= 9 && items.slice(0, 9).every(isInt) && isInt(a) && (intValue(a) === 0 || intValue(a) === 1)) return "pkcs1";
  if (items.length >= 2 && items.length <= 4 && isInt(a) && intValue(a) === 1 && isOctets(b)) return "sec1";
  if (items.length >= 2 && items.length <= 3 && isInt(a) && intValue(a) === 3 && isSeq(b)) return "pkcs12";
  if (items.length === 3 && isSeq(a) && isAlgId(b) && c !== undefined && isUniversal(c, 3)) {
    const tbs = a === undefined ? [] : children(a);
    const last = tbs[tbs.length - 1];
    if (tbs.length === 4 && isInt(tbs[0]) && last?.idBlock.tagClass === 3 && last.idBlock.tagNumber === 0) return "csr";
    return "certificate";
  }
  if (items.length >= 1 && items.length <= 2 && a instanceof asn1js.ObjectIdentifier) return "pkcs7";
  return "unknown";
}
