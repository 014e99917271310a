/**
 * Private key files: reading every layout users bring (encrypted and plain PKCS#8, PKCS#1, SEC1, in
 * PEM or DER whatever the file name), and writing the encrypted PKCS#8 layout of the KSeF web app.
 *
 * Decryption parses the DER itself and runs the KDF asynchronously (see ./pbe.ts) instead of
 * `createPrivateKey({passphrase})`, which is synchronous and would cap bulk imports at one core
 * (measured). Sources: RFC 5958 (PKCS#8), RFC 8018 (PBES2), RFC 8017 A.1.2 (PKCS#1),
 * RFC 5915 (SEC1), RFC 7468 (PEM), and the key files the KSeF web app writes, as observed (the web app layout; docs/ksef.md).
 */
import { createDecipheriv, createHash, createPrivateKey, KeyObject, randomBytes } from "node:crypto";
import { KsefCertsError } from "../errors.js";
import {
  type AsnNode,
  classifyDer,
  type DerKind,
  malformed,
  octetString,
  oidName,
  parseDer,
  readAlgorithmIdentifier,
  readOctets,
  readSequence,
  sequence,
  toDer,
} from "./asn1.js";
import { type BytesInput, decodePem, encodePem, looksLikePem, MAX_OBJECT_BYTES, type PemBlock, toBytes } from "./encoding.js";
import { describeKey } from "./key-description.js";
import {
  type KdfBudget,
  MAX_PBKDF2_ITERATIONS,
  MAX_SALT_BYTES,
  type Pbes2Encrypted,
  type Pbes2Params,
  type Pbes2WriteCipher,
  type PbeScheme,
  type Pbkdf2Prf,
  parsePbeAlgorithm,
  pbeDecrypt,
  pbeDecryptSync,
  pbes2Encrypt,
  pbes2EncryptSync,
} from "./pbe.js";
import type { KeyDescription, KeyEncryption, PrivateKeyFormat, PrivateKeyInfo } from "./types.js";

/**
 * The encryption of the `.key` file the KSeF web app (MCU / Aplikacja Podatnika) writes, and our
 * default: PBES2, PBKDF2 with hmacWithSHA256 (no NULL parameters), 100 000 iterations, 16-byte salt,
 * AES-256-CBC with a 16-byte IV, no keyLength field. A P-256 key encrypts to 246 DER bytes.
 * Source: the key files the KSeF web app writes, as observed (docs/ksef.md).
 */
export const KSEF_KEY_ENCRYPTION: KeyEncryption = {
  scheme: "PBES2",
  kdf: "PBKDF2",
  prf: "hmacWithSHA256",
  prfHasNullParameters: false,
  cipher: "aes-256-cbc",
  iterations: 100_000,
  saltBytes: 16,
};

/**
 * Whether `encryption` is exactly the KSeF web app's `.key` layout ({@link KSEF_KEY_ENCRYPTION}), so
 * that every program that opens the web app's files opens this one too.
 * @param encryption what {@link inspectPrivateKey} or {@link readPrivateKey} found (undefined for a plain key)
 */
export function isKsefKeyEncryption(encryption: KeyEncryption | undefined): boolean {
  if (encryption === undefined) return false;
  const k = KSEF_KEY_ENCRYPTION;
  return (
    encryption.scheme === k.scheme &&
    encryption.kdf === k.kdf &&
    encryption.prf === k.prf &&
    encryption.prfHasNullParameters === k.prfHasNullParameters &&
    encryption.cipher === k.cipher &&
    encryption.iterations === k.iterations &&
    encryption.saltBytes === k.saltBytes
  );
}

/** The PEM label of an encrypted PKCS#8 key (RFC 7468 §11). */
export const ENCRYPTED_PRIVATE_KEY_LABEL = "ENCRYPTED PRIVATE KEY";

/** Options of {@link encryptPrivateKey}; every field defaults to {@link KSEF_KEY_ENCRYPTION}. */
export interface EncryptPrivateKeyOptions {
  /** PBKDF2 iterations, 1 .. 10 000 000 (default 100 000). */
  readonly iterations?: number;
  /** Salt length in bytes, 8 .. 1024 (default 16). */
  readonly saltBytes?: number;
  /** PBKDF2 PRF (default `hmacWithSHA256`). */
  readonly prf?: Pbkdf2Prf;
  /** Cipher (default `aes-256-cbc`). */
  readonly cipher?: Pbes2WriteCipher;
}

const PRF_NAMES: readonly Pbkdf2Prf[] = ["hmacWithSHA1", "hmacWithSHA224", "hmacWithSHA256", "hmacWithSHA384", "hmacWithSHA512"];
const WRITE_CIPHERS: readonly Pbes2WriteCipher[] = ["aes-128-cbc", "aes-192-cbc", "aes-256-cbc"];

function prepareEncryption(key: KeyObject, password: string, options: EncryptPrivateKeyOptions): { plaintext: Buffer; params: Pbes2Params } {
  const violations: { field: string; rule: string; message: string }[] = [];
  const iterations = options.iterations ?? 100_000;
  const saltBytes = options.saltBytes ?? 16;
  const prf = options.prf ?? "hmacWithSHA256";
  const cipher = options.cipher ?? "aes-256-cbc";
  if (!(key instanceof KeyObject) || key.type !== "private")
    violations.push({ field: "key", rule: "key.private", message: "the key must be a private KeyObject" });
  if (typeof password !== "string" || password.length === 0)
    violations.push({ field: "password", rule: "password.required", message: "the password must not be empty" });
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
    violations.push({ field: "iterations", rule: "iterations.range", message: `iterations must be an integer from 1 to ${MAX_PBKDF2_ITERATIONS}` });
  }
  if (!Number.isSafeInteger(saltBytes) || saltBytes < 8 || saltBytes > MAX_SALT_BYTES) {
    violations.push({ field: "saltBytes", rule: "saltBytes.range", message: `saltBytes must be an integer from 8 to ${MAX_SALT_BYTES}` });
  }
  if (!PRF_NAMES.includes(prf)) violations.push({ field: "prf", rule: "prf.known", message: `prf must be one of ${PRF_NAMES.join(", ")}` });
  if (!WRITE_CIPHERS.includes(cipher)) violations.push({ field: "cipher", rule: "cipher.known", message: `cipher must be one of ${WRITE_CIPHERS.join(", ")}` });
  if (violations.length > 0) {
    throw new KsefCertsError("VALIDATION", `The key cannot be encrypted: ${violations.map((v) => v.message).join("; ")}.`, { violations });
  }
  return {
    plaintext: key.export({ type: "pkcs8", format: "der" }),
    params: { prf, cipher, iterations, salt: randomBytes(saltBytes), iv: randomBytes(16), prfNullParameters: false },
  };
}

function encryptedPrivateKeyInfo(encrypted: Pbes2Encrypted): Uint8Array {
  return toDer(sequence([encrypted.algorithm, octetString(encrypted.ciphertext)]));
}

/**
 * Encrypts a private key into a DER `EncryptedPrivateKeyInfo` (RFC 5958 §3) with PBES2 / PBKDF2
 * (RFC 8018 §6.2); by default exactly the KSeF web app layout ({@link KSEF_KEY_ENCRYPTION}).
 * PBKDF2 runs on the libuv thread pool; the password is UTF-8 encoded (RFC 8018 §3).
 * @param key the private key
 * @param password the password (not empty)
 * @param options see {@link EncryptPrivateKeyOptions}
 * @returns DER bytes
 * @throws {KsefCertsError} `VALIDATION` for a non-private key, an empty password or options out of range
 */
export async function encryptPrivateKey(key: KeyObject, password: string, options: EncryptPrivateKeyOptions = {}): Promise<Uint8Array> {
  const { plaintext, params } = prepareEncryption(key, password, options);
  try {
    return encryptedPrivateKeyInfo(await pbes2Encrypt(plaintext, password, params));
  } finally {
    plaintext.fill(0);
  }
}

/**
 * Synchronous {@link encryptPrivateKey}: same output, but PBKDF2 blocks the event loop (~20 ms at
 * 100 000 iterations). Meant for benchmarks against raw `pbkdf2Sync` and for one-shot CLI code.
 * @param key the private key
 * @param password the password (not empty)
 * @param options see {@link EncryptPrivateKeyOptions}
 * @returns DER bytes
 * @throws {KsefCertsError} `VALIDATION` as {@link encryptPrivateKey}
 */
export function encryptPrivateKeySync(key: KeyObject, password: string, options: EncryptPrivateKeyOptions = {}): Uint8Array {
  const { plaintext, params } = prepareEncryption(key, password, options);
  try {
    return encryptedPrivateKeyInfo(pbes2EncryptSync(plaintext, password, params));
  } finally {
    plaintext.fill(0);
  }
}

/**
 * {@link encryptPrivateKey} as PEM text with the label `ENCRYPTED PRIVATE KEY` (RFC 7468 §11), as the
 * KSeF web app's `.key` file.
 * @param key the private key
 * @param password the password (not empty)
 * @param options see {@link EncryptPrivateKeyOptions}
 * @returns PEM text ending in a newline
 * @throws {KsefCertsError} `VALIDATION` as {@link encryptPrivateKey}
 */
export async function encryptPrivateKeyPem(key: KeyObject, password: string, options: EncryptPrivateKeyOptions = {}): Promise<string> {
  return encodePem(ENCRYPTED_PRIVATE_KEY_LABEL, await encryptPrivateKey(key, password, options));
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

const KEY_LABELS: Readonly<Record<string, PrivateKeyFormat>> = {
  "ENCRYPTED PRIVATE KEY": "pkcs8-encrypted",
  "PRIVATE KEY": "pkcs8",
  "RSA PRIVATE KEY": "pkcs1",
  "EC PRIVATE KEY": "sec1",
};

const NOT_A_KEY: Readonly<Partial<Record<DerKind, { readonly thing: string; readonly hint: string }>>> = {
  certificate: {
    thing: "a certificate, not a private key",
    hint: "Pick the private key file (.key) that was saved together with this certificate (.crt); the certificate holds only the public key.",
  },
  csr: { thing: "a certificate signing request (CSR), not a private key", hint: "Pick the private key file the CSR was made with." },
  spki: { thing: "a public key, not a private key", hint: "Pick the private key file; a public key cannot sign." },
  "pkcs1-public": { thing: "an RSA public key, not a private key", hint: "Pick the private key file; a public key cannot sign." },
  pkcs12: { thing: "a PKCS#12 (.p12/.pfx) file, not a bare private key", hint: "Import it as a PKCS#12 file instead; it holds the key and the certificate." },
  pkcs7: { thing: "a PKCS#7/CMS object (e.g. a .p7b certificate bundle), not a private key", hint: "Pick the private key file (.key)." },
};

const NOT_A_KEY_LABELS: Readonly<Record<string, DerKind>> = {
  CERTIFICATE: "certificate",
  "X509 CERTIFICATE": "certificate",
  "TRUSTED CERTIFICATE": "certificate",
  "CERTIFICATE REQUEST": "csr",
  "NEW CERTIFICATE REQUEST": "csr",
  "PUBLIC KEY": "spki",
  "RSA PUBLIC KEY": "pkcs1-public",
  PKCS12: "pkcs12",
  PKCS7: "pkcs7",
  CMS: "pkcs7",
};

function notAKey(kind: DerKind, container: "pem" | "der"): KsefCertsError {
  const known = NOT_A_KEY[kind];
  if (known !== undefined) return new KsefCertsError("MALFORMED", `This file is ${known.thing}.`, { hint: known.hint, details: { detected: kind, container } });
  return new KsefCertsError("MALFORMED", "This file is not a private key (it is neither a PEM key nor a DER PKCS#8, PKCS#1 or SEC1 key).", {
    hint: "Pick the .key file downloaded from the KSeF web app, or a PEM/DER private key.",
    details: { detected: kind, container },
  });
}

/** Legacy OpenSSL PEM encryption (`Proc-Type: 4,ENCRYPTED` + `DEK-Info`), RFC 1421 §4.6 as OpenSSL applies it. */
interface LegacyPemEncryption {
  readonly cipher: string;
  readonly keyBytes: number;
  readonly iv: Uint8Array;
  readonly encryption: KeyEncryption;
  /** Set when the DEK-Info cipher is one we cannot run; thrown by the readers, reported by inspect. */
  readonly unsupported?: KsefCertsError;
}

const LEGACY_PEM_CIPHERS: Readonly<Record<string, { readonly name: string; readonly keyBytes: number; readonly ivBytes: number }>> = {
  "AES-128-CBC": { name: "aes-128-cbc", keyBytes: 16, ivBytes: 16 },
  "AES-192-CBC": { name: "aes-192-cbc", keyBytes: 24, ivBytes: 16 },
  "AES-256-CBC": { name: "aes-256-cbc", keyBytes: 32, ivBytes: 16 },
  "DES-EDE3-CBC": { name: "des-ede3-cbc", keyBytes: 24, ivBytes: 8 },
};

/** A key file located and classified, before any decryption. */
type LocatedKey =
  | { readonly format: "pkcs8" | "pkcs1" | "sec1"; readonly container: "pem" | "der"; readonly der: Uint8Array; readonly legacy?: undefined }
  | { readonly format: "pkcs1" | "sec1"; readonly container: "pem"; readonly der: Uint8Array; readonly legacy: LegacyPemEncryption }
  | {
      readonly format: "pkcs8-encrypted";
      readonly container: "pem" | "der";
      readonly scheme: PbeScheme | KsefCertsError;
      readonly ciphertext: Uint8Array;
      readonly legacy?: undefined;
    };

function legacyPem(block: PemBlock, format: "pkcs1" | "sec1"): LocatedKey {
  const dek = /^([A-Za-z0-9-]+),([0-9A-Fa-f]+)$/.exec((block.headers["DEK-Info"] ?? "").trim());
  const name = dek?.[1]?.toUpperCase() ?? "";
  const cipher = LEGACY_PEM_CIPHERS[name];
  const scheme = "OpenSSL legacy PEM encryption";
  const encryption: KeyEncryption = {
    scheme,
    kdf: "EVP_BytesToKey-MD5",
    cipher: cipher?.name ?? (name.toLowerCase() || "unknown"),
    iterations: 1,
    saltBytes: 8,
  };
  if (dek === null) throw malformed("private key", "the PEM says it is encrypted but has no valid DEK-Info header");
  if (cipher === undefined) {
    const unsupported = new KsefCertsError("UNSUPPORTED", `The private key is encrypted with ${name} (OpenSSL legacy PEM), which ksef-certs cannot decrypt.`, {
      hint: "Convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc` and import the result.",
      details: { scheme: `${scheme} ${name}`, encryption },
    });
    return { format, container: "pem", der: block.der, legacy: { cipher: name, keyBytes: 0, iv: new Uint8Array(0), encryption, unsupported } };
  }
  const iv = Buffer.from(dek[2] ?? "", "hex");
  if (iv.byteLength !== cipher.ivBytes) throw malformed("private key", "the DEK-Info IV has the wrong length");
  return { format, container: "pem", der: block.der, legacy: { cipher: cipher.name, keyBytes: cipher.keyBytes, iv, encryption } };
}

function locateDer(der: Uint8Array, container: "pem" | "der", node?: AsnNode): LocatedKey {
  let parsed: AsnNode;
  try {
    parsed = node ?? parseDer(der, "private key");
  } catch (err) {
    if (container === "der") throw notAKey("unknown", container);
    throw err;
  }
  const kind = classifyDer(parsed);
  switch (kind) {
    case "pkcs8":
    case "pkcs1":
    case "sec1":
      return { format: kind, container, der };
    case "pkcs8-encrypted": {
      const [algorithm, data] = readSequence(parsed, "encrypted private key");
      let scheme: PbeScheme | KsefCertsError;
      try {
        scheme = parsePbeAlgorithm(algorithm, "private key");
      } catch (err) {
        if (!(err instanceof KsefCertsError) || err.code !== "UNSUPPORTED") throw err;
        scheme = err;
      }
      return { format: "pkcs8-encrypted", container, scheme, ciphertext: readOctets(data, "encrypted private key data") };
    }
    default:
      throw notAKey(kind, container);
  }
}

function locate(input: BytesInput): LocatedKey {
  const bytes = toBytes(input, MAX_OBJECT_BYTES, "private key file");
  if (!looksLikePem(bytes)) return locateDer(bytes, "der");
  const text = typeof input === "string" ? input : new TextDecoder().decode(bytes);
  const blocks = decodePem(text);
  const keys = blocks.filter((b) => b.label in KEY_LABELS);
  if (keys.length > 1) {
    throw new KsefCertsError("MALFORMED", `This file holds ${keys.length} private keys; ksef-certs reads one key per file.`, {
      hint: "Split the file so that each key is in its own file.",
    });
  }
  const block = keys[0];
  if (block === undefined) {
    const first = blocks[0];
    if (first === undefined) throw malformed("private key file", "it has no complete PEM block");
    if (first.label === "OPENSSH PRIVATE KEY" || first.label === "DSA PRIVATE KEY") {
      const scheme = first.label === "DSA PRIVATE KEY" ? "DSA key" : "OpenSSH key format";
      throw new KsefCertsError("UNSUPPORTED", `This private key is in a format ksef-certs does not read (${scheme}).`, {
        hint: "KSeF uses EC P-256 or RSA-2048 keys in PKCS#8; convert with `ssh-keygen -p -m PKCS8` or `openssl pkcs8 -topk8`.",
        details: { scheme },
      });
    }
    const kind = NOT_A_KEY_LABELS[first.label] ?? "unknown";
    if (kind !== "unknown") throw notAKey(kind, "pem");
    throw new KsefCertsError("MALFORMED", `This file holds a PEM block "${first.label}", not a private key.`, {
      hint: "Pick the .key file downloaded from the KSeF web app, or a PEM/DER private key.",
      details: { detected: "unknown", label: first.label, container: "pem" },
    });
  }
  const format = KEY_LABELS[block.label] ?? "pkcs8";
  if ((block.headers["Proc-Type"] ?? "").replace(/\s+/g, "") === "4,ENCRYPTED") {
    if (format !== "pkcs1" && format !== "sec1") throw malformed("private key", `a "${block.label}" block cannot carry Proc-Type encryption`);
    return legacyPem(block, format);
  }
  return locateDer(block.der, "pem");
}

function importPlain(der: Uint8Array, format: "pkcs8" | "pkcs1" | "sec1"): KeyObject {
  try {
    return createPrivateKey({ key: Buffer.from(der.buffer, der.byteOffset, der.byteLength), format: "der", type: format });
  } catch (cause) {
    if (format === "pkcs8") {
      const algorithm = pkcs8AlgorithmOid(der);
      if (algorithm !== undefined && !KNOWN_KEY_ALGORITHMS.has(algorithm)) {
        throw new KsefCertsError("UNSUPPORTED", `The private key uses the key algorithm ${oidName(algorithm)}, which ksef-certs cannot read.`, {
          hint: "KSeF uses EC P-256 or RSA-2048 keys.",
          details: { scheme: oidName(algorithm) },
          cause,
        });
      }
    }
    throw malformed("private key", `the ${format.toUpperCase()} structure is invalid`, cause);
  }
}

/** Key algorithm OIDs node:crypto reads (RSA, RSA-PSS, EC, Ed25519/448, X25519/448, DSA, DH). */
const KNOWN_KEY_ALGORITHMS = new Set([
  "1.2.840.113549.1.1.1",
  "1.2.840.113549.1.1.10",
  "1.2.840.10045.2.1",
  "1.3.101.110",
  "1.3.101.111",
  "1.3.101.112",
  "1.3.101.113",
  "1.2.840.10040.4.1",
  "1.2.840.113549.1.3.1",
]);

/** The algorithm OID of a PrivateKeyInfo, or undefined when the bytes are not one. */
function pkcs8AlgorithmOid(der: Uint8Array): string | undefined {
  try {
    const node = parseDer(der, "private key");
    if (classifyDer(node) !== "pkcs8") return undefined;
    return readAlgorithmIdentifier(readSequence(node, "private key")[1], "private key algorithm").oid;
  } catch {
    return undefined;
  }
}

/**
 * Imports decrypted PrivateKeyInfo bytes. Garbage after a decryption that passed the padding check
 * (1 in 256 wrong passwords) is reported as a wrong password; a well-formed key of an algorithm
 * node:crypto lacks is `UNSUPPORTED`.
 */
function importDecrypted(plain: Uint8Array, what: string): KeyObject {
  try {
    return createPrivateKey({ key: Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength), format: "der", type: "pkcs8" });
  } catch (cause) {
    const algorithm = pkcs8AlgorithmOid(plain);
    if (algorithm !== undefined && !KNOWN_KEY_ALGORITHMS.has(algorithm)) {
      throw new KsefCertsError("UNSUPPORTED", `The ${what} uses the key algorithm ${oidName(algorithm)}, which ksef-certs cannot read.`, {
        hint: "KSeF uses EC P-256 or RSA-2048 keys.",
        details: { scheme: oidName(algorithm) },
      });
    }
    throw new KsefCertsError("WRONG_PASSWORD", `The password does not decrypt the ${what}.`, {
      hint: "Check the password (letter case, keyboard layout, Polish letters) and try again.",
      cause,
    });
  } finally {
    plain.fill(0);
  }
}

function requirePassword(password: string | undefined, encryption: KeyEncryption): string {
  if (password === undefined) {
    throw new KsefCertsError("PASSWORD_REQUIRED", "The private key is encrypted; a password is needed to read it.", {
      hint: "Give the password you set when the key was created (for the KSeF web app: when the certificate was requested).",
      details: { encryption },
    });
  }
  return password;
}

function checkSchemeForKey(scheme: PbeScheme | KsefCertsError): PbeScheme {
  if (scheme instanceof KsefCertsError) throw scheme;
  if (scheme.kind === "pkcs12" && scheme.cipher.rc2Bits !== undefined) {
    // RC2 is tolerated only for PKCS#12 certificate bags (legacy exports); a key under RC2 is too weak to accept.
    throw new KsefCertsError("UNSUPPORTED", `The private key is encrypted with ${scheme.encryption.scheme}, which ksef-certs does not accept for keys.`, {
      hint: "Re-encrypt it, e.g. `openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -iter 100000`.",
      details: { scheme: scheme.encryption.scheme, encryption: scheme.encryption },
    });
  }
  return scheme;
}

/** EVP_BytesToKey with MD5 and one iteration, salt = first 8 IV bytes: OpenSSL's legacy PEM KDF. */
function evpBytesToKey(password: string, salt: Uint8Array, keyBytes: number): Buffer {
  const pw = Buffer.from(password, "utf8");
  const parts: Buffer[] = [];
  let prev = Buffer.alloc(0);
  let total = 0;
  while (total < keyBytes) {
    prev = createHash("md5").update(prev).update(pw).update(salt).digest();
    parts.push(prev);
    total += prev.length;
  }
  return Buffer.concat(parts).subarray(0, keyBytes);
}

function decryptLegacy(located: Extract<LocatedKey, { legacy: LegacyPemEncryption }>, maybePassword: string | undefined): KeyObject {
  const { legacy } = located;
  if (legacy.unsupported !== undefined) throw legacy.unsupported;
  const password = requirePassword(maybePassword, legacy.encryption);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv(legacy.cipher, evpBytesToKey(password, legacy.iv.subarray(0, 8), legacy.keyBytes), legacy.iv);
    plain = Buffer.concat([decipher.update(located.der), decipher.final()]);
  } catch (cause) {
    throw new KsefCertsError("WRONG_PASSWORD", "The password does not decrypt the private key.", { hint: "Check the password and try again.", cause });
  }
  try {
    return createPrivateKey({ key: plain, format: "der", type: located.format });
  } catch (cause) {
    throw new KsefCertsError("WRONG_PASSWORD", "The password does not decrypt the private key.", { hint: "Check the password and try again.", cause });
  } finally {
    plain.fill(0);
  }
}

function result(key: KeyObject, located: LocatedKey, encryption?: KeyEncryption): PrivateKeyInfo {
  return { key, format: located.format, container: located.container, ...(encryption === undefined ? {} : { encryption }), description: describeKey(key) };
}

/** Options of {@link readPrivateKey}. */
export interface ReadPrivateKeyOptions {
  /** Password of an encrypted key; ignored for a plain key. An empty string is tried as a password. */
  readonly password?: string;
}

/**
 * Reads a private key in any layout users bring: PEM (`ENCRYPTED PRIVATE KEY`, `PRIVATE KEY`,
 * `RSA PRIVATE KEY`, `EC PRIVATE KEY`, also OpenSSL's legacy `Proc-Type: 4,ENCRYPTED`) or DER of each,
 * decided by content (a DER file named `.pem` is fine).
 * Encrypted PKCS#8: PBES2 with PBKDF2 (hmacWithSHA1/224/256/384/512) or scrypt and AES-128/192/256-CBC
 * or DES-EDE3-CBC; PKCS#12 PBE `pbeWithSHAAnd3-KeyTripleDES-CBC` (and 2-key 3DES). The KDF runs off
 * the event loop.
 * @param input file bytes or text, at most {@link MAX_OBJECT_BYTES}
 * @param options see {@link ReadPrivateKeyOptions}
 * @returns the key, its layout, the encryption found and a description
 * @throws {KsefCertsError} `PASSWORD_REQUIRED` when encrypted and no password was given (`details.encryption`)
 * @throws {KsefCertsError} `WRONG_PASSWORD` when the password does not decrypt it
 * @throws {KsefCertsError} `UNSUPPORTED` for a scheme or key algorithm we cannot handle (`details.scheme`)
 * @throws {KsefCertsError} `MALFORMED` when it is not a key (`details.detected`: `certificate`, `csr`, …), or damaged
 * @throws {KsefCertsError} `TOO_LARGE` over the size limit
 */
export async function readPrivateKey(input: BytesInput, options: ReadPrivateKeyOptions = {}): Promise<PrivateKeyInfo> {
  const located = locate(input);
  if (located.format === "pkcs8-encrypted") {
    const scheme = checkSchemeForKey(located.scheme);
    const password = requirePassword(options.password, scheme.encryption);
    const plain = await pbeDecrypt(scheme, password, located.ciphertext, "private key");
    return result(importDecrypted(plain, "private key"), located, scheme.encryption);
  }
  if (located.legacy !== undefined) {
    return result(decryptLegacy(located, options.password), located, located.legacy.encryption);
  }
  return result(importPlain(located.der, located.format), located);
}

/**
 * Synchronous {@link readPrivateKey} (the KDF blocks the event loop). For benchmarks against
 * `createPrivateKey({passphrase})` and one-shot CLI code; scrypt-encrypted keys need the async version.
 * @param input file bytes or text, at most {@link MAX_OBJECT_BYTES}
 * @param options see {@link ReadPrivateKeyOptions}
 * @throws {KsefCertsError} as {@link readPrivateKey}
 */
export function readPrivateKeySync(input: BytesInput, options: ReadPrivateKeyOptions = {}): PrivateKeyInfo {
  const located = locate(input);
  if (located.format === "pkcs8-encrypted") {
    const scheme = checkSchemeForKey(located.scheme);
    const password = requirePassword(options.password, scheme.encryption);
    const plain = pbeDecryptSync(scheme, password, located.ciphertext, "private key");
    return result(importDecrypted(plain, "private key"), located, scheme.encryption);
  }
  if (located.legacy !== undefined) {
    return result(decryptLegacy(located, options.password), located, located.legacy.encryption);
  }
  return result(importPlain(located.der, located.format), located);
}

/** What {@link inspectPrivateKey} learns from a key file without its password. */
export interface PrivateKeyInspection {
  readonly format: PrivateKeyFormat;
  readonly container: "pem" | "der";
  /** Whether a password is needed to read the key. */
  readonly encrypted: boolean;
  /** The encryption scheme, iterations and salt size, for encrypted keys (also legacy PEM encryption). */
  readonly encryption?: KeyEncryption;
  /** The key's algorithm, for plain keys only (an encrypted key's algorithm is inside the ciphertext). */
  readonly description?: KeyDescription;
  /** False when {@link readPrivateKey} would refuse the key as `UNSUPPORTED` even with the right password. */
  readonly supported: boolean;
  /** Why it is not supported, one sentence. */
  readonly problem?: string;
}

/**
 * Inspects a key file without a password (for the CLI's `inspect`): layout, encryption parameters
 * of an encrypted key, or algorithm of a plain one. Synchronous and cheap (no KDF).
 * @param input file bytes or text, at most {@link MAX_OBJECT_BYTES}
 * @returns see {@link PrivateKeyInspection}
 * @throws {KsefCertsError} `MALFORMED` when it is not a key (see {@link readPrivateKey}); `TOO_LARGE` over the limit;
 *   `UNSUPPORTED` for key formats we do not read at all (OpenSSH, DSA PEM)
 */
export function inspectPrivateKey(input: BytesInput): PrivateKeyInspection {
  const located = locate(input);
  const base = { format: located.format, container: located.container };
  if (located.format === "pkcs8-encrypted") {
    try {
      const scheme = checkSchemeForKey(located.scheme);
      return { ...base, encrypted: true, encryption: scheme.encryption, supported: true };
    } catch (err) {
      const e = err as KsefCertsError;
      const encryption = e.details["encryption"] as KeyEncryption | undefined;
      const scheme = typeof e.details["scheme"] === "string" ? e.details["scheme"] : "unknown";
      return { ...base, encrypted: true, encryption: encryption ?? { scheme }, supported: false, problem: e.message };
    }
  }
  if (located.legacy !== undefined) {
    const problem = located.legacy.unsupported?.message;
    return { ...base, encrypted: true, encryption: located.legacy.encryption, supported: problem === undefined, ...(problem === undefined ? {} : { problem }) };
  }
  try {
    return { ...base, encrypted: false, description: describeKey(importPlain(located.der, located.format)), supported: true };
  } catch (err) {
    if (err instanceof KsefCertsError && err.code === "UNSUPPORTED") return { ...base, encrypted: false, supported: false, problem: err.message };
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Building blocks for PKCS#12 (RFC 7292 §4.2.1, §4.2.2)
// ---------------------------------------------------------------------------------------------

/** Options of {@link decryptEncryptedPrivateKeyInfo}. */
export interface DecryptKeyInfoOptions {
  /** Work budget shared by every KDF of one file. */
  readonly budget?: KdfBudget;
  /** Use the zero-length PKCS#12 password form (empty password written as "absent"). */
  readonly nullPassword?: boolean;
  /** What is decrypted, for messages (default "private key"). */
  readonly what?: string;
}

/**
 * Decrypts a parsed EncryptedPrivateKeyInfo (e.g. the value of a PKCS#12 `pkcs8ShroudedKeyBag`).
 * @param node the EncryptedPrivateKeyInfo node
 * @param password the password
 * @param options see {@link DecryptKeyInfoOptions}
 * @returns the key and the encryption it used
 * @throws {KsefCertsError} `WRONG_PASSWORD`, `UNSUPPORTED`, `MALFORMED` as {@link readPrivateKey}
 */
export async function decryptEncryptedPrivateKeyInfo(
  node: AsnNode,
  password: string,
  options: DecryptKeyInfoOptions = {},
): Promise<{ key: KeyObject; encryption: KeyEncryption }> {
  const what = options.what ?? "private key";
  if (classifyDer(node) !== "pkcs8-encrypted") throw malformed(what, "an EncryptedPrivateKeyInfo was expected");
  const [algorithm, data] = readSequence(node, what);
  const scheme = checkSchemeForKey(parsePbeAlgorithm(algorithm, what));
  options.budget?.spendOn(scheme, what);
  const plain = await pbeDecrypt(
    scheme,
    password,
    readOctets(data, `${what} encrypted data`),
    what,
    options.nullPassword === true ? { nullPassword: true } : {},
  );
  return { key: importDecrypted(plain, what), encryption: scheme.encryption };
}

/**
 * Imports a plain DER PrivateKeyInfo (e.g. a PKCS#12 `keyBag`).
 * @param der the PrivateKeyInfo bytes
 * @throws {KsefCertsError} `MALFORMED` when invalid; `UNSUPPORTED` for an unknown key algorithm
 */
export function importPrivateKeyInfo(der: Uint8Array): KeyObject {
  return importPlain(der, "pkcs8");
}
