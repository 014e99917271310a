/**
 * Password-based encryption shared by encrypted PKCS#8 and PKCS#12: PBES2 with PBKDF2 or scrypt
 * (RFC 8018 §6.2, RFC 7914 §7), the PKCS#12 PBE schemes and key-derivation function (RFC 7292 App. B, C).
 *
 * The asynchronous functions never block the event loop. A light derivation (the usual 2 048 to
 * 100 000 iterations) runs as it always did: PBKDF2 and scrypt through node:crypto's asynchronous
 * functions on libuv's thread pool, so decrypting several keys at once uses every core; the PKCS#12 KDF,
 * which has no native binding, in slices that yield to the event loop. A heavy one (a file asking for
 * millions of iterations) runs on the separate worker pool of ./kdf-pool.ts, so that it cannot hold
 * libuv's threads, which sign-in hashing needs, for seconds. node-forge is loaded only for RC2 (legacy
 * PKCS#12 certificate bags), which OpenSSL 3's default provider lacks.
 */
import { createCipheriv, createDecipheriv, hash as oneShotHash, pbkdf2, pbkdf2Sync, scrypt, type CipherKey } from "node:crypto";
import type * as asn1js from "asn1js";
import { KsefCertsError } from "../errors.js";
import {
  algorithmIdentifier,
  type AsnNode,
  integer,
  isAbsentOrNull,
  malformed,
  octetString,
  OID,
  oidName,
  readAlgorithmIdentifier,
  readOctets,
  readSequence,
  readSmallInteger,
  sequence,
} from "./asn1.js";
import { deriveKey, type KdfJob } from "./kdf-pool.js";
import type { KeyEncryption } from "./types.js";
import { msg } from "../messages/index.js";

/** Highest PBKDF2 iteration count we run (≈ 2 s on one core): a hostile file must not hang us. */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
/**
 * Highest PKCS#12-KDF iteration count we run. The KDF is iterated hashing in JavaScript (~2 µs a
 * step), ten times slower than native PBKDF2, so the cap is ten times lower for the same time budget.
 */
export const MAX_PKCS12_KDF_ITERATIONS = 1_000_000;
/** Largest salt accepted in a KDF parameter block, in bytes (real files use 8 to 64). */
export const MAX_SALT_BYTES = 1024;
/** Largest scrypt memory we allow a file to ask for: 256 MiB (`128 · N · r` bytes; OpenSSL's default is 16 MiB). */
export const MAX_SCRYPT_MEMORY_BYTES = 256 * 1024 * 1024;

/** PBKDF2 pseudo-random functions we read and write (RFC 8018 App. B.1.1, B.1.2). */
export type Pbkdf2Prf = "hmacWithSHA1" | "hmacWithSHA224" | "hmacWithSHA256" | "hmacWithSHA384" | "hmacWithSHA512";
/** PBES2 ciphers we read (RFC 8018 App. B.2); 3DES is read only, never written. */
export type Pbes2Cipher = "aes-128-cbc" | "aes-192-cbc" | "aes-256-cbc" | "des-ede3-cbc";
/** PBES2 ciphers we write. */
export type Pbes2WriteCipher = Exclude<Pbes2Cipher, "des-ede3-cbc">;

/** A block cipher in CBC mode as node:crypto names it, with its sizes in bytes. */
interface CipherSpec {
  readonly name: Pbes2Cipher;
  readonly oid: string;
  readonly keyBytes: number;
  readonly ivBytes: number;
}

const PRFS: Readonly<Record<string, { readonly name: Pbkdf2Prf; readonly hash: string }>> = {
  [OID.hmacWithSHA1]: { name: "hmacWithSHA1", hash: "sha1" },
  [OID.hmacWithSHA224]: { name: "hmacWithSHA224", hash: "sha224" },
  [OID.hmacWithSHA256]: { name: "hmacWithSHA256", hash: "sha256" },
  [OID.hmacWithSHA384]: { name: "hmacWithSHA384", hash: "sha384" },
  [OID.hmacWithSHA512]: { name: "hmacWithSHA512", hash: "sha512" },
};
const PRF_HASH: Readonly<Record<Pbkdf2Prf, string>> = {
  hmacWithSHA1: "sha1",
  hmacWithSHA224: "sha224",
  hmacWithSHA256: "sha256",
  hmacWithSHA384: "sha384",
  hmacWithSHA512: "sha512",
};
const PRF_OIDS: Readonly<Record<Pbkdf2Prf, string>> = {
  hmacWithSHA1: OID.hmacWithSHA1,
  hmacWithSHA224: OID.hmacWithSHA224,
  hmacWithSHA256: OID.hmacWithSHA256,
  hmacWithSHA384: OID.hmacWithSHA384,
  hmacWithSHA512: OID.hmacWithSHA512,
};

const CIPHERS: Readonly<Record<string, CipherSpec>> = {
  [OID.aes128Cbc]: { name: "aes-128-cbc", oid: OID.aes128Cbc, keyBytes: 16, ivBytes: 16 },
  [OID.aes192Cbc]: { name: "aes-192-cbc", oid: OID.aes192Cbc, keyBytes: 24, ivBytes: 16 },
  [OID.aes256Cbc]: { name: "aes-256-cbc", oid: OID.aes256Cbc, keyBytes: 32, ivBytes: 16 },
  [OID.desEde3Cbc]: { name: "des-ede3-cbc", oid: OID.desEde3Cbc, keyBytes: 24, ivBytes: 8 },
};
const CIPHER_BY_NAME: Readonly<Record<string, CipherSpec>> = Object.fromEntries(Object.values(CIPHERS).map((c) => [c.name, c]));

/** A PKCS#12 PBE cipher (RFC 7292 App. C): node:crypto name, or RC2 with its effective key bits (run by node-forge). */
interface Pkcs12Cipher {
  readonly name: string;
  readonly keyBytes: number;
  readonly node?: "des-ede3-cbc" | "des-ede-cbc";
  readonly rc2Bits?: number;
}

const PKCS12_CIPHERS: Readonly<Record<string, Pkcs12Cipher>> = {
  [OID.pbeWithSHAAnd3KeyTripleDesCbc]: { name: "des-ede3-cbc", keyBytes: 24, node: "des-ede3-cbc" },
  [OID.pbeWithSHAAnd2KeyTripleDesCbc]: { name: "des-ede-cbc", keyBytes: 16, node: "des-ede-cbc" },
  [OID.pbeWithSHAAnd128BitRC2Cbc]: { name: "rc2-128-cbc", keyBytes: 16, rc2Bits: 128 },
  [OID.pbeWithSHAAnd40BitRC2Cbc]: { name: "rc2-40-cbc", keyBytes: 5, rc2Bits: 40 },
};

/**
 * A parsed password-based encryption AlgorithmIdentifier, ready to decrypt.
 * `encryption` is the non-secret description shown to users (see {@link KeyEncryption}).
 */
export type PbeScheme =
  | {
      readonly kind: "pbkdf2";
      readonly encryption: KeyEncryption;
      readonly salt: Uint8Array;
      readonly iterations: number;
      readonly hash: string;
      readonly cipher: CipherSpec;
      readonly iv: Uint8Array;
    }
  | {
      readonly kind: "scrypt";
      readonly encryption: KeyEncryption;
      readonly salt: Uint8Array;
      readonly cost: number;
      readonly blockSize: number;
      readonly parallelization: number;
      readonly cipher: CipherSpec;
      readonly iv: Uint8Array;
    }
  | {
      readonly kind: "pkcs12";
      readonly encryption: KeyEncryption;
      readonly salt: Uint8Array;
      readonly iterations: number;
      readonly cipher: Pkcs12Cipher;
    };

function unsupported(what: string, scheme: string, encryption: KeyEncryption, reason?: string): KsefCertsError {
  return new KsefCertsError(
    "UNSUPPORTED",
    reason === undefined ? msg("pbe.schemeUnsupported", { what, scheme }) : msg("pbe.schemeUnsupported.because", { what, scheme, reason }),
    {
      hint: what.includes("PKCS#12") ? msg("pbe.schemeUnsupported.hintPkcs12") : msg("pbe.schemeUnsupported.hintKey"),
      details: { scheme, encryption },
    },
  );
}

function checkSalt(salt: Uint8Array, what: string, scheme: string, encryption: KeyEncryption): void {
  if (salt.byteLength === 0 || salt.byteLength > MAX_SALT_BYTES) {
    throw unsupported(what, scheme, encryption, `a salt of ${salt.byteLength} bytes; 1 to ${MAX_SALT_BYTES} bytes are accepted`);
  }
}

function iterationLimit(what: string, scheme: string, encryption: KeyEncryption, limit: number): (value: number) => KsefCertsError {
  return (value) =>
    new KsefCertsError(
      "UNSUPPORTED",
      Number.isFinite(value) ? msg("pbe.tooManyIterations", { what, iterations: value, limit }) : msg("pbe.tooManyIterations.huge", { what, limit }),
      {
        hint: msg("pbe.tooManyIterations.hint"),
        details: { scheme, encryption, limit },
      },
    );
}

/**
 * Parses the encryption AlgorithmIdentifier of an EncryptedPrivateKeyInfo (RFC 5958 §3) or of a CMS
 * EncryptedContentInfo inside PKCS#12 (RFC 7292 §4.1).
 * Supported: PBES2 with PBKDF2 (PRF hmacWithSHA1/224/256/384/512) or scrypt, cipher AES-128/192/256-CBC or
 * DES-EDE3-CBC; PKCS#12 PBE with SHA-1 and 3-key/2-key 3DES or RC2-40/128.
 * @param node the AlgorithmIdentifier node
 * @param what what is encrypted, for messages (e.g. "private key")
 * @returns the scheme with its parameters and a description
 * @throws {KsefCertsError} `UNSUPPORTED` naming the scheme (`details.scheme`, `details.encryption`) for
 *   PBES1, RC4, GCM, unknown OIDs, or limits exceeded (iterations, salt, scrypt memory)
 * @throws {KsefCertsError} `MALFORMED` when the parameters are not well formed
 */
export function parsePbeAlgorithm(node: AsnNode | undefined, what: string): PbeScheme {
  const alg = readAlgorithmIdentifier(node, `${what} encryption algorithm`);
  if (alg.oid === OID.pbes2) return parsePbes2(alg.params, what);
  const p12 = PKCS12_CIPHERS[alg.oid];
  const scheme = oidName(alg.oid);
  if (p12 === undefined) throw unsupported(what, scheme, { scheme }, alg.oid === scheme ? "an unknown algorithm" : undefined);
  const params = readSequence(alg.params, `${what} PKCS#12 PBE parameters`);
  const salt = readOctets(params[0], `${what} PKCS#12 PBE salt`);
  const described: KeyEncryption = { scheme, cipher: p12.name, saltBytes: salt.byteLength };
  const iterations = readSmallInteger(
    params[1],
    `${what} PKCS#12 PBE iteration count`,
    MAX_PKCS12_KDF_ITERATIONS,
    iterationLimit(what, scheme, described, MAX_PKCS12_KDF_ITERATIONS),
  );
  const encryption: KeyEncryption = { ...described, iterations };
  checkSalt(salt, what, scheme, encryption);
  if (iterations < 1) throw malformed(`${what} encryption parameters`, "the iteration count is zero");
  return { kind: "pkcs12", encryption, salt, iterations, cipher: p12 };
}

function parsePbes2(paramsNode: AsnNode | undefined, what: string): PbeScheme {
  const params = readSequence(paramsNode, `${what} PBES2 parameters`);
  if (params.length !== 2) throw malformed(`${what} PBES2 parameters`, "two elements were expected");
  const kdf = readAlgorithmIdentifier(params[0], `${what} key-derivation function`);
  const enc = readAlgorithmIdentifier(params[1], `${what} cipher`);
  const cipher = CIPHERS[enc.oid];
  const cipherName = cipher?.name ?? oidName(enc.oid);
  const kdfName = oidName(kdf.oid);

  if (kdf.oid === OID.pbkdf2) {
    const kp = readSequence(kdf.params, `${what} PBKDF2 parameters`);
    if (kp.length < 2 || kp.length > 4) throw malformed(`${what} PBKDF2 parameters`, "two to four elements were expected");
    // salt is CHOICE { specified OCTET STRING, otherSource AlgorithmIdentifier }; nobody writes the latter.
    if (kp[0]?.idBlock.tagNumber === 16) throw unsupported(what, "PBKDF2 with otherSource salt", { scheme: "PBES2", kdf: "PBKDF2" });
    const salt = readOctets(kp[0], `${what} PBKDF2 salt`);
    let rest = kp.slice(2);
    let keyLength: number | undefined;
    if (rest[0]?.idBlock.tagNumber === 2 && rest[0].idBlock.tagClass === 1) {
      keyLength = readSmallInteger(rest[0], `${what} PBKDF2 key length`, 1024);
      rest = rest.slice(1);
    }
    let prf: { readonly name: Pbkdf2Prf; readonly hash: string } | undefined = { name: "hmacWithSHA1", hash: "sha1" };
    let prfName: string = "hmacWithSHA1";
    let prfHasNullParameters: boolean | undefined;
    if (rest.length > 1) throw malformed(`${what} PBKDF2 parameters`, "unexpected elements");
    if (rest[0] !== undefined) {
      const prfAlg = readAlgorithmIdentifier(rest[0], `${what} PBKDF2 PRF`);
      if (!isAbsentOrNull(prfAlg.params)) throw malformed(`${what} PBKDF2 PRF`, "an HMAC PRF has no parameters");
      prf = PRFS[prfAlg.oid];
      prfName = prf?.name ?? oidName(prfAlg.oid);
      prfHasNullParameters = prfAlg.params !== undefined;
    }
    const described: KeyEncryption = {
      scheme: "PBES2",
      kdf: "PBKDF2",
      prf: prfName,
      ...(prfHasNullParameters === undefined ? {} : { prfHasNullParameters }),
      cipher: cipherName,
      saltBytes: salt.byteLength,
    };
    const iterations = readSmallInteger(
      kp[1],
      `${what} PBKDF2 iteration count`,
      MAX_PBKDF2_ITERATIONS,
      iterationLimit(what, "PBES2", described, MAX_PBKDF2_ITERATIONS),
    );
    const encryption: KeyEncryption = { ...described, iterations };
    if (prf === undefined) throw unsupported(what, `PBES2 with PRF ${prfName}`, encryption, "an unsupported PBKDF2 PRF");
    if (cipher === undefined) throw unsupported(what, `PBES2 with cipher ${cipherName}`, encryption, "an unsupported cipher");
    checkSalt(salt, what, "PBES2", encryption);
    if (iterations < 1) throw malformed(`${what} PBKDF2 parameters`, "the iteration count is zero");
    if (keyLength !== undefined && keyLength !== cipher.keyBytes) {
      throw malformed(`${what} PBKDF2 parameters`, `the key length ${keyLength} does not fit ${cipher.name}`);
    }
    return { kind: "pbkdf2", encryption, salt, iterations, hash: prf.hash, cipher, iv: readIv(enc.params, cipher, what) };
  }

  if (kdf.oid === OID.scrypt) {
    // scrypt-params ::= SEQUENCE { salt OCTET STRING, costParameter, blockSize, parallelizationParameter, keyLength OPTIONAL } (RFC 7914 §7.1)
    const sp = readSequence(kdf.params, `${what} scrypt parameters`);
    if (sp.length < 4 || sp.length > 5) throw malformed(`${what} scrypt parameters`, "four or five elements were expected");
    const salt = readOctets(sp[0], `${what} scrypt salt`);
    const described: KeyEncryption = { scheme: "PBES2", kdf: "scrypt", cipher: cipherName, saltBytes: salt.byteLength };
    const tooMuch = (value: number): KsefCertsError =>
      unsupported(what, "PBES2 with scrypt", described, `parameters needing more than ${MAX_SCRYPT_MEMORY_BYTES / 1024 / 1024} MiB (N·r = ${value})`);
    const cost = readSmallInteger(sp[1], `${what} scrypt cost`, MAX_SCRYPT_MEMORY_BYTES / 128, tooMuch);
    const blockSize = readSmallInteger(sp[2], `${what} scrypt block size`, 1024, tooMuch);
    const parallelization = readSmallInteger(sp[3], `${what} scrypt parallelization`, 16, tooMuch);
    if (sp[4] !== undefined && readSmallInteger(sp[4], `${what} scrypt key length`, 1024) !== cipher?.keyBytes) {
      throw malformed(`${what} scrypt parameters`, "the key length does not fit the cipher");
    }
    const encryption: KeyEncryption = { ...described, iterations: cost };
    if (cost < 2 || (cost & (cost - 1)) !== 0 || blockSize < 1 || parallelization < 1)
      throw malformed(`${what} scrypt parameters`, "N must be a power of two, r and p positive");
    if (128 * cost * blockSize > MAX_SCRYPT_MEMORY_BYTES) throw tooMuch(cost * blockSize);
    if (cipher === undefined) throw unsupported(what, `PBES2 with cipher ${cipherName}`, encryption, "an unsupported cipher");
    checkSalt(salt, what, "PBES2", encryption);
    return { kind: "scrypt", encryption, salt, cost, blockSize, parallelization, cipher, iv: readIv(enc.params, cipher, what) };
  }

  throw unsupported(what, `PBES2 with ${kdfName}`, { scheme: "PBES2", kdf: kdfName, cipher: cipherName }, "an unsupported key-derivation function");
}

function readIv(node: AsnNode | undefined, cipher: CipherSpec, what: string): Uint8Array {
  const iv = readOctets(node, `${what} ${cipher.name} IV`);
  if (iv.byteLength !== cipher.ivBytes) throw malformed(`${what} ${cipher.name} IV`, `the IV has ${iv.byteLength} bytes instead of ${cipher.ivBytes}`);
  return iv;
}

/**
 * Tracks the key-derivation work one file may cost, so a PKCS#12 with many bags each at the iteration
 * cap cannot hang the process. One unit is one PBKDF2 iteration (~0.2 µs); a PKCS#12-KDF iteration
 * counts ten. The default allows what {@link MAX_PBKDF2_ITERATIONS} and {@link MAX_PKCS12_KDF_ITERATIONS}
 * allow for the three KDFs of a usual file (two bags and the MAC): a few seconds of CPU at worst.
 */
export class KdfBudget {
  #remaining: number;

  /** @param units total work allowed (default 32 000 000 units) */
  constructor(units = 3.2 * MAX_PBKDF2_ITERATIONS) {
    this.#remaining = units;
  }

  /**
   * Charges the cost of deriving keys for `scheme` (or a MAC key).
   * @param units cost in PBKDF2-iteration units
   * @param what what is being derived, for the message
   * @throws {KsefCertsError} `UNSUPPORTED` when the budget is exhausted
   */
  spend(units: number, what: string): void {
    this.#remaining -= units;
    if (this.#remaining < 0) {
      throw new KsefCertsError("UNSUPPORTED", msg("pbe.budgetExceeded", { what }), {
        hint: msg("pbe.hostileFile.hint"),
        details: { scheme: "iteration budget" },
      });
    }
  }

  /**
   * Charges `scheme` (PBKDF2 iterations, scrypt N·r·p/8, PKCS#12 KDF iterations × 10).
   * @param scheme the parsed scheme
   * @param what what is being decrypted, for the message
   * @throws {KsefCertsError} `UNSUPPORTED` when the budget is exhausted
   */
  spendOn(scheme: PbeScheme, what: string): void {
    if (scheme.kind === "pbkdf2") this.spend(scheme.iterations, what);
    else if (scheme.kind === "scrypt") this.spend((scheme.cost * scheme.blockSize * scheme.parallelization) / 8, what);
    else this.spend(scheme.iterations * 10 * 3, what);
  }
}

/** How a password becomes bytes: UTF-8 for PBES2 (RFC 8018 §3), BMPString + two zero bytes for the PKCS#12 KDF (RFC 7292 B.1). */
export function utf8Password(password: string): Buffer {
  return Buffer.from(password, "utf8");
}

/**
 * The PKCS#12 password bytes: UTF-16BE (surrogate pairs kept, as OpenSSL does) followed by 0x0000 (RFC 7292 B.1).
 * @param password the password
 * @param nullPassword produce the zero-length "absent password" form some writers use for an empty password
 */
export function bmpPassword(password: string, nullPassword = false): Uint8Array {
  if (nullPassword) return new Uint8Array(0);
  const out = new Uint8Array(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) {
    const unit = password.charCodeAt(i);
    out[2 * i] = unit >> 8;
    out[2 * i + 1] = unit & 0xff;
  }
  return out;
}

/** PBKDF2 off the event loop: inline on libuv's pool when light, on the worker pool when heavy (module comment). The password buffer is wiped. */
async function pbkdf2Async(password: Buffer, salt: Uint8Array, iterations: number, length: number, digest: string): Promise<Uint8Array> {
  const job: KdfJob = { kind: "pbkdf2", password, salt, iterations, keyLength: length, digest };
  try {
    return await deriveKey(
      job,
      () =>
        new Promise((resolve, reject) => {
          pbkdf2(password, salt, iterations, length, digest, (err, key) => {
            if (err) reject(err);
            else resolve(key);
          });
        }),
    );
  } finally {
    password.fill(0);
  }
}

/** scrypt off the event loop, routed like {@link pbkdf2Async}. The password buffer is wiped. */
async function scryptAsync(password: Buffer, scheme: Extract<PbeScheme, { kind: "scrypt" }>): Promise<Uint8Array> {
  const options = { N: scheme.cost, r: scheme.blockSize, p: scheme.parallelization, maxmem: 128 * scheme.cost * scheme.blockSize * 2 + 32 * 1024 * 1024 };
  const job: KdfJob = { kind: "scrypt", password, salt: scheme.salt, keyLength: scheme.cipher.keyBytes, ...options };
  try {
    return await deriveKey(
      job,
      () =>
        new Promise((resolve, reject) => {
          scrypt(password, scheme.salt, scheme.cipher.keyBytes, options, (err, key) => {
            if (err) reject(err);
            else resolve(key);
          });
        }),
    );
  } finally {
    password.fill(0);
  }
}

/** Digest sizes for the PKCS#12 KDF: output `u` and block `v` in bytes (RFC 7292 B.2). */
const KDF_HASHES: Readonly<Record<string, { readonly u: number; readonly v: number }>> = {
  sha1: { u: 20, v: 64 },
  sha224: { u: 28, v: 64 },
  sha256: { u: 32, v: 64 },
  sha384: { u: 48, v: 128 },
  sha512: { u: 64, v: 128 },
};

/** Hashes per slice between checks of the clock in the asynchronous KDF. */
const KDF_SLICE = 2048;
/** Longest time the KDF holds the event loop before yielding, in ms. */
const KDF_YIELD_MS = 8;

/** What the PKCS#12 KDF asks its driver for: `input` hashed `rounds` times (RFC 7292 B.2 step 6a). */
interface HashChain {
  readonly hash: string;
  readonly input: Buffer;
  readonly rounds: number;
}

/**
 * The PKCS#12 KDF as a generator: it yields each block's hash chain, the expensive part, to its driver
 * (the synchronous one runs it in place, the asynchronous one in slices or on the worker pool) and gets
 * the chain's result back.
 */
function* pkcs12KdfSteps(
  hash: string,
  password: Uint8Array,
  salt: Uint8Array,
  id: number,
  iterations: number,
  length: number,
): Generator<HashChain, Uint8Array, Uint8Array> {
  const sizes = KDF_HASHES[hash];
  if (sizes === undefined) throw new KsefCertsError("UNSUPPORTED", msg("pbe.pkcs12KdfUnsupported", { hash }), { details: { scheme: hash } });
  const { u, v } = sizes;
  const fill = (src: Uint8Array): Uint8Array => {
    const out = new Uint8Array(src.length === 0 ? 0 : v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length] ?? 0;
    return out;
  };
  const d = new Uint8Array(v).fill(id);
  const i = Buffer.concat([fill(salt), fill(password)]);
  const blocks = Math.ceil(length / u);
  const out = new Uint8Array(blocks * u);
  for (let block = 0; block < blocks; block++) {
    const a = yield { hash, input: Buffer.concat([d, i]), rounds: iterations };
    out.set(a, block * u);
    if (block + 1 < blocks) {
      // I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block of I, B = A repeated to v bytes.
      for (let j = 0; j < i.length; j += v) {
        let carry = 1;
        for (let k = v - 1; k >= 0; k--) {
          const sum = (i[j + k] ?? 0) + (a[k % u] ?? 0) + carry;
          i[j + k] = sum & 0xff;
          carry = sum >> 8;
        }
      }
    }
  }
  i.fill(0);
  return out.subarray(0, length);
}

function hashChainSync(chain: HashChain): Uint8Array {
  let a = chain.input;
  for (let r = 0; r < chain.rounds; r++) a = oneShotHash(chain.hash, a, "buffer");
  return a;
}

/** The hash chain on the event loop, yielding to it every ~{@link KDF_YIELD_MS} ms. */
async function hashChainSliced(chain: HashChain): Promise<Uint8Array> {
  let a = chain.input;
  let sliceStart = performance.now();
  for (let r = 0; r < chain.rounds; r++) {
    a = oneShotHash(chain.hash, a, "buffer");
    if (r % KDF_SLICE === KDF_SLICE - 1 && performance.now() - sliceStart > KDF_YIELD_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return a;
}

/**
 * PKCS#12 key derivation (RFC 7292 App. B.2), synchronous.
 * @param hash node digest name (`sha1`, `sha256`, …)
 * @param password password bytes from {@link bmpPassword}
 * @param salt salt bytes
 * @param id 1 = cipher key, 2 = IV, 3 = MAC key
 * @param iterations iteration count
 * @param length output length in bytes
 * @throws {KsefCertsError} `UNSUPPORTED` for a digest without known block size
 */
export function pkcs12KdfSync(hash: string, password: Uint8Array, salt: Uint8Array, id: number, iterations: number, length: number): Uint8Array {
  const steps = pkcs12KdfSteps(hash, password, salt, id, iterations, length);
  for (let step = steps.next(); ; step = steps.next(hashChainSync(step.value))) {
    if (step.done === true) return step.value;
  }
}

/**
 * PKCS#12 key derivation (RFC 7292 App. B.2) off the event loop: a light one in slices that yield every
 * ~8 ms, a heavy one on the worker pool (module comment). Parameters as {@link pkcs12KdfSync}.
 * @param hash node digest name
 * @param password password bytes from {@link bmpPassword}
 * @param salt salt bytes
 * @param id 1 = cipher key, 2 = IV, 3 = MAC key
 * @param iterations iteration count
 * @param length output length in bytes
 * @throws {KsefCertsError} `UNSUPPORTED` for a digest without known block size; `IO` when the worker pool is shut down meanwhile
 */
export async function pkcs12Kdf(hash: string, password: Uint8Array, salt: Uint8Array, id: number, iterations: number, length: number): Promise<Uint8Array> {
  const steps = pkcs12KdfSteps(hash, password, salt, id, iterations, length);
  for (let step = steps.next(); ; ) {
    if (step.done === true) return step.value;
    const chain = step.value;
    step = steps.next(await deriveKey({ kind: "hashChain", hash: chain.hash, input: chain.input, rounds: chain.rounds }, () => hashChainSliced(chain)));
  }
}

function wrongPassword(what: string, cause?: unknown): KsefCertsError {
  return new KsefCertsError("WRONG_PASSWORD", msg("pbe.wrongPassword", { what }), {
    hint: msg("pbe.wrongPassword.hint"),
    ...(cause === undefined ? {} : { cause }),
  });
}

function cbcDecrypt(cipher: string, key: CipherKey, iv: Uint8Array, data: Uint8Array, what: string): Uint8Array {
  try {
    const decipher = createDecipheriv(cipher, key, iv);
    return Buffer.concat([decipher.update(data), decipher.final()]);
  } catch (cause) {
    // Bad PKCS#7 padding is what a wrong password looks like in CBC mode.
    throw wrongPassword(what, cause);
  }
}

function checkBlocks(data: Uint8Array, blockBytes: number, what: string): void {
  if (data.byteLength === 0 || data.byteLength % blockBytes !== 0) {
    throw malformed(what, `the encrypted data (${data.byteLength} bytes) is not a whole number of ${blockBytes}-byte cipher blocks`);
  }
}

async function rc2Decrypt(key: Uint8Array, bits: number, iv: Uint8Array, data: Uint8Array, what: string): Promise<Uint8Array> {
  const { default: forge } = await import("node-forge");
  const binary = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  const decipher = forge.rc2.createDecryptionCipher(binary(key), bits);
  decipher.start(binary(iv));
  decipher.update(forge.util.createBuffer(binary(data)));
  // forge's own unpadding checks only the last byte; ours checks all of it.
  decipher.finish(() => true);
  const out = Buffer.from(decipher.output.getBytes(), "latin1");
  const pad = out[out.length - 1] ?? 0;
  if (pad < 1 || pad > 8 || pad > out.length || !out.subarray(out.length - pad).every((b) => b === pad)) throw wrongPassword(what);
  return out.subarray(0, out.length - pad);
}

/** Options of {@link pbeDecrypt}. */
export interface PbeDecryptOptions {
  /** For an empty password under the PKCS#12 KDF: use the zero-length form (see {@link bmpPassword}). */
  readonly nullPassword?: boolean;
}

/**
 * Decrypts `data` with `scheme`; the KDF runs off the event loop (PBKDF2, scrypt) or in yielding slices (PKCS#12 KDF).
 * @param scheme from {@link parsePbeAlgorithm}
 * @param password the password (UTF-8 for PBES2, BMPString for PKCS#12 PBE)
 * @param data the ciphertext
 * @param what what is decrypted, for messages
 * @param options see {@link PbeDecryptOptions}
 * @returns the plaintext with padding removed
 * @throws {KsefCertsError} `WRONG_PASSWORD` on bad padding; `MALFORMED` when `data` is not whole cipher blocks
 */
export async function pbeDecrypt(scheme: PbeScheme, password: string, data: Uint8Array, what: string, options: PbeDecryptOptions = {}): Promise<Uint8Array> {
  if (scheme.kind === "pkcs12") {
    checkBlocks(data, 8, what);
    const pw = bmpPassword(password, options.nullPassword);
    const key = await pkcs12Kdf("sha1", pw, scheme.salt, 1, scheme.iterations, scheme.cipher.keyBytes);
    const iv = await pkcs12Kdf("sha1", pw, scheme.salt, 2, scheme.iterations, 8);
    if (scheme.cipher.node !== undefined) return cbcDecrypt(scheme.cipher.node, key, iv, data, what);
    return rc2Decrypt(key, scheme.cipher.rc2Bits ?? 0, iv, data, what);
  }
  checkBlocks(data, scheme.cipher.ivBytes, what);
  const key =
    scheme.kind === "pbkdf2"
      ? await pbkdf2Async(utf8Password(password), scheme.salt, scheme.iterations, scheme.cipher.keyBytes, scheme.hash)
      : await scryptAsync(utf8Password(password), scheme);
  return cbcDecrypt(scheme.cipher.name, key, scheme.iv, data, what);
}

/**
 * Synchronous {@link pbeDecrypt} (blocks the event loop for the whole KDF; for benchmarks and CLIs).
 * RC2 and scrypt are not available synchronously.
 * @param scheme from {@link parsePbeAlgorithm}
 * @param password the password
 * @param data the ciphertext
 * @param what what is decrypted, for messages
 * @throws {KsefCertsError} `WRONG_PASSWORD` on bad padding; `MALFORMED` for partial blocks; `UNSUPPORTED` for RC2/scrypt
 */
export function pbeDecryptSync(scheme: PbeScheme, password: string, data: Uint8Array, what: string): Uint8Array {
  if (scheme.kind === "pkcs12") {
    const node = scheme.cipher.node;
    if (node === undefined) throw unsupported(what, scheme.encryption.scheme, scheme.encryption, "RC2 is only decrypted asynchronously");
    checkBlocks(data, 8, what);
    const pw = bmpPassword(password);
    const key = pkcs12KdfSync("sha1", pw, scheme.salt, 1, scheme.iterations, scheme.cipher.keyBytes);
    const iv = pkcs12KdfSync("sha1", pw, scheme.salt, 2, scheme.iterations, 8);
    return cbcDecrypt(node, key, iv, data, what);
  }
  if (scheme.kind === "scrypt") throw unsupported(what, "PBES2 with scrypt", scheme.encryption, "scrypt is only run asynchronously");
  checkBlocks(data, scheme.cipher.ivBytes, what);
  const key = pbkdf2Sync(utf8Password(password), scheme.salt, scheme.iterations, scheme.cipher.keyBytes, scheme.hash);
  return cbcDecrypt(scheme.cipher.name, key, scheme.iv, data, what);
}

/** Parameters of a PBES2 / PBKDF2 encryption we write. */
export interface Pbes2Params {
  readonly prf: Pbkdf2Prf;
  readonly cipher: Pbes2WriteCipher;
  /** PBKDF2 iteration count, 1 .. {@link MAX_PBKDF2_ITERATIONS}. */
  readonly iterations: number;
  /** Random salt (the KSeF web app uses 16 bytes). */
  readonly salt: Uint8Array;
  /** Random IV of the cipher's block size (16 bytes for AES). */
  readonly iv: Uint8Array;
  /**
   * Write the PRF AlgorithmIdentifier with an explicit NULL (as OpenSSL does) instead of no parameters
   * (as the KSeF web app does). Ignored for hmacWithSHA1, which is the DEFAULT and therefore omitted.
   */
  readonly prfNullParameters: boolean;
}

/**
 * The PBES2 AlgorithmIdentifier (RFC 8018 A.4) for `params`; keyLength is omitted as the KSeF web app does.
 * @param params see {@link Pbes2Params}
 * @throws {KsefCertsError} `VALIDATION` for an unknown PRF or cipher name
 */
export function pbes2AlgorithmIdentifier(params: Pbes2Params): asn1js.Sequence {
  const cipher = CIPHER_BY_NAME[params.cipher];
  const prfOid = PRF_OIDS[params.prf] as string | undefined;
  if (cipher === undefined || prfOid === undefined)
    throw new KsefCertsError("VALIDATION", msg("pbe.unknownPrfOrCipher", { prf: params.prf, cipher: params.cipher }));
  const pbkdf2Params: AsnNode[] = [octetString(params.salt), integer(params.iterations)];
  // hmacWithSHA1 is the DEFAULT of the prf field, so DER omits it (X.690 §11.5).
  if (params.prf !== "hmacWithSHA1") pbkdf2Params.push(algorithmIdentifier(prfOid, params.prfNullParameters ? null : undefined));
  return algorithmIdentifier(
    OID.pbes2,
    sequence([algorithmIdentifier(OID.pbkdf2, sequence(pbkdf2Params)), algorithmIdentifier(cipher.oid, octetString(params.iv))]),
  );
}

function checkWriteParams(params: Pbes2Params): CipherSpec {
  const cipher = CIPHER_BY_NAME[params.cipher];
  if (cipher === undefined || cipher.name === "des-ede3-cbc") throw new KsefCertsError("VALIDATION", msg("pbe.cipherNotWritten", { cipher: params.cipher }));
  if (params.iv.byteLength !== cipher.ivBytes) throw new KsefCertsError("VALIDATION", msg("pbe.ivLength", { cipher: cipher.name, ivBytes: cipher.ivBytes }));
  return cipher;
}

function cbcEncrypt(cipher: CipherSpec, key: CipherKey, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = createCipheriv(cipher.name, key, iv);
  return Buffer.concat([c.update(data), c.final()]);
}

/** A PBES2 result: the AlgorithmIdentifier to store with the ciphertext. */
export interface Pbes2Encrypted {
  readonly algorithm: asn1js.Sequence;
  readonly ciphertext: Uint8Array;
}

/**
 * Encrypts `plaintext` with PBES2 / PBKDF2 (RFC 8018 §6.2.1); PBKDF2 runs on the libuv thread pool.
 * The caller validates `params` ranges; salt and IV come from the caller so tests can fix them.
 * @param plaintext the bytes to encrypt (e.g. a DER PrivateKeyInfo)
 * @param password the password, UTF-8 encoded
 * @param params see {@link Pbes2Params}
 * @throws {KsefCertsError} `VALIDATION` for a cipher we do not write or an IV of the wrong size
 */
export async function pbes2Encrypt(plaintext: Uint8Array, password: string, params: Pbes2Params): Promise<Pbes2Encrypted> {
  const cipher = checkWriteParams(params);
  const key = await pbkdf2Async(utf8Password(password), params.salt, params.iterations, cipher.keyBytes, PRF_HASH[params.prf]);
  return { algorithm: pbes2AlgorithmIdentifier(params), ciphertext: cbcEncrypt(cipher, key, params.iv, plaintext) };
}

/**
 * Synchronous {@link pbes2Encrypt} (blocks the event loop during PBKDF2; for benchmarks and CLIs).
 * @param plaintext the bytes to encrypt
 * @param password the password, UTF-8 encoded
 * @param params see {@link Pbes2Params}
 * @throws {KsefCertsError} `VALIDATION` for a cipher we do not write or an IV of the wrong size
 */
export function pbes2EncryptSync(plaintext: Uint8Array, password: string, params: Pbes2Params): Pbes2Encrypted {
  const cipher = checkWriteParams(params);
  const key = pbkdf2Sync(utf8Password(password), params.salt, params.iterations, cipher.keyBytes, PRF_HASH[params.prf]);
  return { algorithm: pbes2AlgorithmIdentifier(params), ciphertext: cbcEncrypt(cipher, key, params.iv, plaintext) };
}
