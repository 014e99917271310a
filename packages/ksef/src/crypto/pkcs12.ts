/**
 * PKCS#12 / PFX files (RFC 7292): export of a key with its certificate for Windows, OpenSSL and
 * other tools, and import of files from OpenSSL 3 (modern and `-legacy`), Windows and Java.
 *
 * Written layout (what OpenSSL 3 writes by default and Windows 10 1709+/Server 2019 reads):
 * - certificates in a password-encrypted SafeContents (CMS EncryptedData), key in a
 *   `pkcs8ShroudedKeyBag`, both PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC with 16-byte salts;
 * - `localKeyId` = SHA-1 of the certificate on the key and certificate bags (as OpenSSL), optional
 *   `friendlyName` (BMPString) on both;
 * - MAC HMAC-SHA256 keyed by the PKCS#12 KDF (RFC 7292 App. B).
 * The default iteration count is 100 000 for the bags and the MAC alike: a MAC with fewer iterations
 * would let an attacker test passwords more cheaply than the key encryption allows. Three KDFs of
 * 100 000 stay under .NET's default PKCS#12 work limit (600 000 in total, KB5025823).
 */
import { createHmac, KeyObject, randomBytes, timingSafeEqual, X509Certificate, createHash } from "node:crypto";
import * as asn1js from "asn1js";
import { KsefCertsError, violation, type Violation } from "../errors.js";
import {
  algorithmIdentifier,
  type AsnNode,
  classifyDer,
  encodedBytes,
  explicit,
  implicitOctets,
  integer,
  malformed,
  octetString,
  OID,
  oidName,
  parseDer,
  readAlgorithmIdentifier,
  readExplicit,
  readOctets,
  readOid,
  readSequence,
  readSmallInteger,
  sequence,
  sortedSetOf,
  toDer,
} from "./asn1.js";
import { type BytesInput, looksLikePem, MAX_PKCS12_BYTES, toBytes } from "./encoding.js";
import { decryptEncryptedPrivateKeyInfo, importPrivateKeyInfo } from "./pkcs8.js";
import { bmpPassword, KdfBudget, MAX_PBKDF2_ITERATIONS, MAX_PKCS12_KDF_ITERATIONS, parsePbeAlgorithm, pbeDecrypt, pbes2Encrypt, pkcs12Kdf } from "./pbe.js";
import type { KeyEncryption } from "./types.js";
import { msg } from "../messages/index.js";

/** Default iteration count of {@link exportPkcs12} for the bag encryption and the MAC. */
export const PKCS12_DEFAULT_ITERATIONS = 100_000;

/** Input of {@link exportPkcs12}. */
export interface ExportPkcs12Input {
  /** The certificate (DER) that belongs to `privateKey`. */
  readonly certificate: Uint8Array;
  readonly privateKey: KeyObject;
  /** Further certificates (DER), e.g. the issuing CA, in the order to write them. */
  readonly chain?: readonly Uint8Array[];
  /** The file password (not empty). UTF-8 for PBES2, BMPString for the MAC, as OpenSSL 3 does. */
  readonly password: string;
  /** Name shown by Windows' certificate store and `openssl pkcs12 -info` (`friendlyName`, at most 256 characters). */
  readonly friendlyName?: string;
  /** PBKDF2 iterations of the key and certificate encryption, 1 000 .. 10 000 000 (default {@link PKCS12_DEFAULT_ITERATIONS}). */
  readonly iterations?: number;
  /**
   * PKCS#12-KDF iterations of the MAC, 1 000 .. 1 000 000 (default: `iterations`, capped at 1 000 000).
   * The MAC KDF runs in JavaScript (~0.2 s per 100 000 on one core, yielding to the event loop).
   */
  readonly macIterations?: number;
}

/** What {@link importPkcs12} found in a file. */
export interface ImportedPkcs12 {
  readonly privateKey: KeyObject;
  /** The certificate that belongs to the key (DER). */
  readonly certificate: Uint8Array;
  /** The other certificates (DER), in file order. */
  readonly chain: Uint8Array[];
  /** `friendlyName` of the key bag, else of its certificate bag. */
  readonly friendlyName?: string;
  /** MAC digest (`sha1`, `sha256`, …); absent when the file has no MAC. */
  readonly macAlgorithm?: string;
  /** Iteration count of the MAC KDF; absent when the file has no MAC. */
  readonly macIterations?: number;
  /** The encryption of each encrypted item, in file order (certificate SafeContents, key bag). */
  readonly encryption: KeyEncryption[];
}

const MAC_DIGESTS: Readonly<Record<string, { readonly name: string; readonly bytes: number }>> = {
  [OID.sha1]: { name: "sha1", bytes: 20 },
  [OID.sha224]: { name: "sha224", bytes: 28 },
  [OID.sha256]: { name: "sha256", bytes: 32 },
  [OID.sha384]: { name: "sha384", bytes: 48 },
  [OID.sha512]: { name: "sha512", bytes: 64 },
};

/** Most bags one file may hold (certificates with a long chain stay far below). */
const MAX_BAGS = 256;
/** Deepest nesting of `safeContentsBag`s we follow. */
const MAX_BAG_DEPTH = 4;

function parseCertificate(der: Uint8Array, what: string): X509Certificate {
  try {
    return new X509Certificate(Buffer.from(der.buffer, der.byteOffset, der.byteLength));
  } catch (cause) {
    throw new KsefCertsError("MALFORMED", msg("pkcs12.certificateInvalid", { what }), {
      hint: msg("pkcs12.certificateInvalid.hint"),
      cause,
    });
  }
}

function attributes(localKeyId: Uint8Array, friendlyName: string | undefined): asn1js.Set {
  const attrs: AsnNode[] = [sequence([new asn1js.ObjectIdentifier({ value: OID.localKeyId }), sortedSetOf([octetString(localKeyId)])])];
  if (friendlyName !== undefined) {
    attrs.push(sequence([new asn1js.ObjectIdentifier({ value: OID.friendlyName }), sortedSetOf([new asn1js.BmpString({ value: friendlyName })])]));
  }
  return sortedSetOf(attrs);
}

function checkExportInput(input: ExportPkcs12Input): { iterations: number; macIterations: number } {
  const violations: Violation[] = [];
  const iterations = input.iterations ?? PKCS12_DEFAULT_ITERATIONS;
  const macIterations = input.macIterations ?? Math.min(iterations, MAX_PKCS12_KDF_ITERATIONS);
  if (!(input.privateKey instanceof KeyObject) || input.privateKey.type !== "private") {
    violations.push(violation("privateKey", "privateKey.private"));
  }
  if (typeof input.password !== "string" || input.password.length === 0) violations.push(violation("password", "password.required"));
  if (!Number.isSafeInteger(iterations) || iterations < 1000 || iterations > MAX_PBKDF2_ITERATIONS) {
    violations.push(violation("iterations", "iterations.range", { min: 1000, max: MAX_PBKDF2_ITERATIONS }));
  }
  if (!Number.isSafeInteger(macIterations) || macIterations < 1000 || macIterations > MAX_PKCS12_KDF_ITERATIONS) {
    violations.push(violation("macIterations", "macIterations.range", { min: 1000, max: MAX_PKCS12_KDF_ITERATIONS }));
  }
  if (input.friendlyName !== undefined && (input.friendlyName.length === 0 || input.friendlyName.length > 256)) {
    violations.push(violation("friendlyName", "friendlyName.length", { min: 1, max: 256 }));
  }
  if (violations.length > 0) {
    throw new KsefCertsError("VALIDATION", msg("pkcs12.cannotWrite"), { violations });
  }
  return { iterations, macIterations };
}

/**
 * Writes a PKCS#12 file (RFC 7292) holding `privateKey`, its `certificate` and `chain`; see the module
 * comment for the exact layout. Readable by `openssl pkcs12` (OpenSSL 3 without `-legacy`), Node's
 * `tls.createSecureContext({pfx})` and Windows 10 1709+ / Server 2019.
 * @param input see {@link ExportPkcs12Input}
 * @returns DER bytes of the PFX
 * @throws {KsefCertsError} `VALIDATION` for a non-private key, an empty password or options out of range
 * @throws {KsefCertsError} `MALFORMED` when a certificate is not valid DER X.509
 * @throws {KsefCertsError} `KEY_MISMATCH` when the key does not belong to `certificate`
 */
export async function exportPkcs12(input: ExportPkcs12Input): Promise<Uint8Array> {
  const { iterations, macIterations } = checkExportInput(input);
  const certificate = parseCertificate(input.certificate, "certificate");
  // X509Certificate also accepts PEM; `raw` is always the DER that belongs in a CertBag.
  const certificateDer = new Uint8Array(certificate.raw);
  const chain = (input.chain ?? []).map((der, i) => new Uint8Array(parseCertificate(der, `chain certificate #${i + 1}`).raw));
  if (!certificate.checkPrivateKey(input.privateKey)) {
    throw new KsefCertsError("KEY_MISMATCH", msg("pkcs12.keyMismatch"), {
      hint: msg("pkcs12.keyMismatch.hint"),
    });
  }
  const localKeyId = createHash("sha1").update(certificateDer).digest();
  const pbes2 = (): { prf: "hmacWithSHA256"; cipher: "aes-256-cbc"; iterations: number; salt: Uint8Array; iv: Uint8Array; prfNullParameters: boolean } => ({
    prf: "hmacWithSHA256",
    cipher: "aes-256-cbc",
    iterations,
    salt: randomBytes(16),
    iv: randomBytes(16),
    // OpenSSL writes the PRF with NULL parameters inside PKCS#12; Windows' import is tested against that.
    prfNullParameters: true,
  });

  const certBags = [certificateDer, ...chain].map((der, i) =>
    sequence([
      new asn1js.ObjectIdentifier({ value: OID.certBag }),
      explicit(0, sequence([new asn1js.ObjectIdentifier({ value: OID.x509Certificate }), explicit(0, octetString(der))])),
      ...(i === 0 ? [attributes(localKeyId, input.friendlyName)] : []),
    ]),
  );
  const keyInfo = input.privateKey.export({ type: "pkcs8", format: "der" });
  const macSalt = randomBytes(16);
  let encryptedKey: Awaited<ReturnType<typeof pbes2Encrypt>>;
  let encryptedCerts: Awaited<ReturnType<typeof pbes2Encrypt>>;
  let macKey: Uint8Array;
  try {
    // The two PBKDF2 runs use the thread pool while the MAC KDF runs here: all three overlap.
    [encryptedKey, encryptedCerts, macKey] = await Promise.all([
      pbes2Encrypt(keyInfo, input.password, pbes2()),
      pbes2Encrypt(toDer(sequence(certBags)), input.password, pbes2()),
      pkcs12Kdf("sha256", bmpPassword(input.password), macSalt, 3, macIterations, 32),
    ]);
  } finally {
    keyInfo.fill(0);
  }

  const keyBag = sequence([
    new asn1js.ObjectIdentifier({ value: OID.pkcs8ShroudedKeyBag }),
    explicit(0, sequence([encryptedKey.algorithm, octetString(encryptedKey.ciphertext)])),
    attributes(localKeyId, input.friendlyName),
  ]);
  const certsInfo = sequence([
    new asn1js.ObjectIdentifier({ value: OID.encryptedData }),
    explicit(
      0,
      sequence([
        integer(0),
        sequence([new asn1js.ObjectIdentifier({ value: OID.data }), encryptedCerts.algorithm, implicitOctets(0, encryptedCerts.ciphertext)]),
      ]),
    ),
  ]);
  const keyInfoContent = sequence([new asn1js.ObjectIdentifier({ value: OID.data }), explicit(0, octetString(toDer(sequence([keyBag]))))]);
  const authSafe = toDer(sequence([certsInfo, keyInfoContent]));
  const mac = createHmac("sha256", macKey).update(authSafe).digest();
  return toDer(
    sequence([
      integer(3),
      sequence([new asn1js.ObjectIdentifier({ value: OID.data }), explicit(0, octetString(authSafe))]),
      sequence([sequence([algorithmIdentifier(OID.sha256, null), octetString(mac)]), octetString(macSalt), integer(macIterations)]),
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------------

interface BagAttributes {
  readonly localKeyId?: Uint8Array;
  readonly friendlyName?: string;
}

interface FoundKey {
  readonly kind: "plain" | "shrouded";
  readonly node: AsnNode;
  readonly attributes: BagAttributes;
}

interface FoundCert {
  readonly der: Uint8Array;
  readonly attributes: BagAttributes;
}

interface Collected {
  readonly keys: FoundKey[];
  readonly certs: FoundCert[];
  bags: number;
}

const WHAT = "PKCS#12 file";

function readAttributes(node: AsnNode | undefined): BagAttributes {
  if (node === undefined) return {};
  let localKeyId: Uint8Array | undefined;
  let friendlyName: string | undefined;
  for (const attr of readSequence(node, `${WHAT} bag attributes`, true)) {
    const [idNode, valuesNode] = readSequence(attr, `${WHAT} bag attribute`);
    const id = readOid(idNode, `${WHAT} bag attribute`);
    const first = readSequence(valuesNode, `${WHAT} bag attribute values`, true)[0];
    if (id === OID.localKeyId && first !== undefined) localKeyId = readOctets(first, `${WHAT} localKeyId`);
    else if (id === OID.friendlyName && first instanceof asn1js.BmpString) friendlyName = first.valueBlock.value;
  }
  return { ...(localKeyId === undefined ? {} : { localKeyId }), ...(friendlyName === undefined ? {} : { friendlyName }) };
}

function collectBags(safeContents: AsnNode, found: Collected, depth: number): void {
  for (const bag of readSequence(safeContents, `${WHAT} SafeContents`)) {
    if (++found.bags > MAX_BAGS) throw new KsefCertsError("UNSUPPORTED", msg("pkcs12.tooManyBags", { max: MAX_BAGS }), { details: { scheme: "bag count" } });
    const [idNode, valueNode, attrsNode] = readSequence(bag, `${WHAT} SafeBag`);
    const id = readOid(idNode, `${WHAT} SafeBag`);
    const value = readExplicit(valueNode, 0, `${WHAT} SafeBag value`);
    if (value === undefined) throw malformed(WHAT, "a SafeBag has no [0] value");
    const attributes = readAttributes(attrsNode);
    if (id === OID.keyBag) found.keys.push({ kind: "plain", node: value, attributes });
    else if (id === OID.pkcs8ShroudedKeyBag) found.keys.push({ kind: "shrouded", node: value, attributes });
    else if (id === OID.certBag) {
      const [certType, certValue] = readSequence(value, `${WHAT} CertBag`);
      // Only X.509 certificates matter here; SDSI certificates (9.22.2) are skipped like CRL and secret bags.
      if (readOid(certType, `${WHAT} CertBag`) !== OID.x509Certificate) continue;
      found.certs.push({ der: readOctets(readExplicit(certValue, 0, `${WHAT} CertBag value`), `${WHAT} certificate`), attributes });
    } else if (id === OID.safeContentsBag) {
      if (depth >= MAX_BAG_DEPTH) throw malformed(WHAT, "SafeContents are nested too deeply");
      collectBags(value, found, depth + 1);
    }
  }
}

function wrongPassword(cause?: unknown): KsefCertsError {
  return new KsefCertsError("WRONG_PASSWORD", msg("pkcs12.wrongPassword"), {
    hint: msg("pbe.wrongPassword.hint"),
    ...(cause === undefined ? {} : { cause }),
  });
}

interface MacResult {
  readonly algorithm: string;
  readonly iterations: number;
  /** The empty password matched in its zero-length form. */
  readonly nullPassword: boolean;
}

async function verifyMac(macData: AsnNode, content: Uint8Array, password: string, budget: KdfBudget): Promise<MacResult> {
  const [digestInfo, saltNode, iterNode] = readSequence(macData, `${WHAT} MacData`);
  const [algNode, digestNode] = readSequence(digestInfo, `${WHAT} MAC`);
  const alg = readAlgorithmIdentifier(algNode, `${WHAT} MAC algorithm`);
  const digest = MAC_DIGESTS[alg.oid];
  const name = oidName(alg.oid);
  if (digest === undefined) {
    throw new KsefCertsError("UNSUPPORTED", msg("pkcs12.macUnsupported", { mac: name }), {
      hint: msg("pkcs12.macUnsupported.hint"),
      details: { scheme: `MAC ${name}` },
    });
  }
  const expected = readOctets(digestNode, `${WHAT} MAC value`);
  const salt = readOctets(saltNode, `${WHAT} MAC salt`);
  const iterations =
    iterNode === undefined
      ? 1
      : readSmallInteger(
          iterNode,
          `${WHAT} MAC iteration count`,
          MAX_PKCS12_KDF_ITERATIONS,
          (value) =>
            new KsefCertsError(
              "UNSUPPORTED",
              Number.isFinite(value)
                ? msg("pkcs12.tooManyMacIterations", { iterations: value, limit: MAX_PKCS12_KDF_ITERATIONS })
                : msg("pkcs12.tooManyMacIterations.huge", { limit: MAX_PKCS12_KDF_ITERATIONS }),
              {
                hint: msg("pbe.hostileFile.hint"),
                details: { scheme: `MAC ${digest.name}`, limit: MAX_PKCS12_KDF_ITERATIONS },
              },
            ),
        );
  if (iterations < 1) throw malformed(WHAT, "the MAC iteration count is zero");
  if (salt.byteLength > 1024) throw malformed(WHAT, "the MAC salt is too long");
  // OpenSSL and Windows write an empty password either as BMPString "" (two zero bytes) or as no bytes at all.
  const candidates = password === "" ? [false, true] : [false];
  for (const nullPassword of candidates) {
    budget.spend(iterations * 10, WHAT);
    const key = await pkcs12Kdf(digest.name, bmpPassword(password, nullPassword), salt, 3, iterations, digest.bytes);
    const mac = createHmac(digest.name, key).update(content).digest();
    if (mac.byteLength === expected.byteLength && timingSafeEqual(mac, expected)) return { algorithm: digest.name, iterations, nullPassword };
  }
  throw wrongPassword();
}

async function decryptSafeContents(
  encryptedData: AsnNode,
  password: string,
  budget: KdfBudget,
  nullPassword: boolean,
): Promise<{ node: AsnNode; encryption: KeyEncryption }> {
  const [versionNode, eci] = readSequence(encryptedData, `${WHAT} EncryptedData`);
  readSmallInteger(versionNode, `${WHAT} EncryptedData version`, 2);
  const [contentType, algorithm, contentNode] = readSequence(eci, `${WHAT} EncryptedContentInfo`);
  if (readOid(contentType, `${WHAT} EncryptedContentInfo`) !== OID.data) throw malformed(WHAT, "encrypted content is not of type data");
  const scheme = parsePbeAlgorithm(algorithm, "certificates in the PKCS#12 file");
  budget.spendOn(scheme, WHAT);
  const ciphertext = readOctets(contentNode, `${WHAT} encrypted content`, 0);
  const plain = await pbeDecrypt(scheme, password, ciphertext, WHAT, nullPassword ? { nullPassword } : {});
  try {
    return { node: parseDer(plain, `decrypted ${WHAT} content`), encryption: scheme.encryption };
  } catch (cause) {
    // Padding happened to check out under a wrong password (1 in 256 for CBC).
    throw wrongPassword(cause);
  }
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/**
 * Reads a PKCS#12 file: verifies the MAC first, decrypts the certificate SafeContents and the key bag,
 * and returns the key with its certificate (matched by `localKeyId`, else by public key) and the rest
 * as `chain`. Reads PBES2 (PBKDF2 any PRF, AES-CBC, 3DES), PKCS#12 PBE 3DES for keys and RC2-40/128
 * or 3DES for certificates (OpenSSL `-legacy`, older Windows), RSA and EC keys. Files without a MAC are read too.
 * @param input the file, at most {@link MAX_PKCS12_BYTES}
 * @param password the file password ("" for files exported without one)
 * @returns see {@link ImportedPkcs12}
 * @throws {KsefCertsError} `WRONG_PASSWORD` when the MAC does not verify or the password does not decrypt a bag
 * @throws {KsefCertsError} `MALFORMED` when it is not PKCS#12 (`details.detected`), is damaged, or holds no key or no certificate
 * @throws {KsefCertsError} `UNSUPPORTED` for public-key integrity/privacy modes, unknown schemes, several keys, or limits exceeded
 * @throws {KsefCertsError} `KEY_MISMATCH` when no certificate in the file belongs to its key
 * @throws {KsefCertsError} `TOO_LARGE` over the size limit
 */
export async function importPkcs12(input: BytesInput, password: string): Promise<ImportedPkcs12> {
  const bytes = toBytes(input, MAX_PKCS12_BYTES, WHAT);
  if (looksLikePem(bytes)) {
    throw new KsefCertsError("MALFORMED", msg("pkcs12.isPem"), {
      hint: msg("pkcs12.isPem.hint"),
      details: { detected: "pem" },
    });
  }
  let pfx: AsnNode;
  try {
    pfx = parseDer(bytes, WHAT);
  } catch (cause) {
    throw new KsefCertsError("MALFORMED", msg("pkcs12.notPkcs12"), {
      hint: msg("pkcs12.notPkcs12.hint"),
      details: { detected: "unknown" },
      cause,
    });
  }
  const kind = classifyDer(pfx);
  if (kind !== "pkcs12") {
    const message =
      kind === "certificate"
        ? msg("pkcs12.isCertificate")
        : kind.startsWith("pkcs8") || kind === "pkcs1" || kind === "sec1"
          ? msg("pkcs12.isPrivateKey")
          : msg("pkcs12.notPkcs12");
    throw new KsefCertsError("MALFORMED", message, {
      hint: msg("pkcs12.otherKind.hint"),
      details: { detected: kind },
    });
  }
  const [versionNode, authSafeNode, macData] = readSequence(pfx, WHAT);
  const version = readSmallInteger(versionNode, `${WHAT} version`, 1000);
  if (version !== 3) throw new KsefCertsError("UNSUPPORTED", msg("pkcs12.version", { version }), { details: { scheme: `PFX version ${version}` } });
  const [authType, authContent] = readSequence(authSafeNode, `${WHAT} authSafe`);
  const authOid = readOid(authType, `${WHAT} authSafe`);
  if (authOid !== OID.data) {
    throw new KsefCertsError("UNSUPPORTED", msg("pkcs12.publicKeyIntegrity", { scheme: oidName(authOid) }), {
      hint: msg("pkcs12.publicKeyIntegrity.hint"),
      details: { scheme: oidName(authOid) },
    });
  }
  const content = readOctets(readExplicit(authContent, 0, `${WHAT} authSafe content`), `${WHAT} authSafe content`);
  const budget = new KdfBudget();
  const mac = macData === undefined ? undefined : await verifyMac(macData, content, password, budget);
  const nullPassword = mac?.nullPassword ?? false;

  const found: Collected = { keys: [], certs: [], bags: 0 };
  const encryption: KeyEncryption[] = [];
  for (const info of readSequence(parseDer(content, `${WHAT} AuthenticatedSafe`), `${WHAT} AuthenticatedSafe`)) {
    const [typeNode, valueNode] = readSequence(info, `${WHAT} ContentInfo`);
    const type = readOid(typeNode, `${WHAT} ContentInfo`);
    const value = readExplicit(valueNode, 0, `${WHAT} ContentInfo content`);
    if (value === undefined) throw malformed(WHAT, "a ContentInfo has no content");
    if (type === OID.data) {
      collectBags(parseDer(readOctets(value, `${WHAT} SafeContents`), `${WHAT} SafeContents`), found, 0);
    } else if (type === OID.encryptedData) {
      const decrypted = await decryptSafeContents(value, password, budget, nullPassword);
      encryption.push(decrypted.encryption);
      collectBags(decrypted.node, found, 0);
    } else {
      throw new KsefCertsError("UNSUPPORTED", msg("pkcs12.publicKeyPrivacy", { contentType: oidName(type) }), {
        hint: msg("pkcs12.publicKeyPrivacy.hint"),
        details: { scheme: oidName(type) },
      });
    }
  }

  if (found.keys.length === 0) {
    throw new KsefCertsError("MALFORMED", msg("pkcs12.noKey"), {
      hint: msg("pkcs12.noKey.hint"),
      details: { detected: "pkcs12-without-key" },
    });
  }
  if (found.keys.length > 1) {
    throw new KsefCertsError("UNSUPPORTED", msg("pkcs12.manyKeys", { count: found.keys.length }), {
      hint: msg("pkcs12.manyKeys.hint"),
      details: { scheme: "multiple private keys" },
    });
  }
  const keyBag = found.keys[0] as FoundKey;
  let privateKey: KeyObject;
  if (keyBag.kind === "plain") {
    privateKey = importPrivateKeyInfo(encodedBytes(keyBag.node));
  } else {
    const decrypted = await decryptEncryptedPrivateKeyInfo(keyBag.node, password, { budget, nullPassword, what: `private key in the ${WHAT}` });
    privateKey = decrypted.key;
    encryption.push(decrypted.encryption);
  }
  if (found.certs.length === 0) {
    throw new KsefCertsError("MALFORMED", msg("pkcs12.noCertificate"), {
      hint: msg("pkcs12.noCertificate.hint"),
      details: { detected: "pkcs12-without-certificate" },
    });
  }

  const parsed = found.certs.map((c, i) => ({ ...c, x509: parseCertificate(c.der, `certificate #${i + 1} in the ${WHAT}`) }));
  const belongs = (c: (typeof parsed)[number]): boolean => c.x509.checkPrivateKey(privateKey);
  const match = parsed.find((c) => sameBytes(c.attributes.localKeyId, keyBag.attributes.localKeyId) && belongs(c)) ?? parsed.find(belongs);
  if (match === undefined) {
    throw new KsefCertsError("KEY_MISMATCH", msg("pkcs12.noMatchingCertificate"), {
      hint: msg("pkcs12.noMatchingCertificate.hint"),
    });
  }
  const friendlyName = keyBag.attributes.friendlyName ?? match.attributes.friendlyName;
  return {
    privateKey,
    certificate: new Uint8Array(match.x509.raw),
    chain: parsed.filter((c) => c !== match).map((c) => new Uint8Array(c.x509.raw)),
    ...(friendlyName === undefined ? {} : { friendlyName }),
    ...(mac === undefined ? {} : { macAlgorithm: mac.algorithm, macIterations: mac.iterations }),
    encryption,
  };
}
