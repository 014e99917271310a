/**
 * Password-encrypted CMS (RFC 5652 EnvelopedData with one PasswordRecipientInfo, RFC 3211): the
 * bundle adapter's envelope, chosen because `openssl cms -decrypt -binary -inform DER -pwri_password PASS`
 * opens it with no ksef-certs installed (an accounting office can always get its pairs out).
 *
 * Written: content AES-256-CBC under a random 32-byte content key; the content key wrapped with
 * id-alg-PWRI-KEK (RFC 3211 §2.3, AES-256-CBC, two CBC passes) under a KEK from PBKDF2-HMAC-SHA256
 * (RFC 8018 §5.2; 16-byte salt, 600 000 iterations by default). pkijs was not used: its password
 * recipient writes AES key wrap (RFC 3394) as the key encryption algorithm, which OpenSSL's PWRI does not read.
 * Read: the same with PBKDF2 PRF SHA-1/224/256/384/512 and AES-128/192/256-CBC (what OpenSSL writes).
 */
import { createCipheriv, createDecipheriv, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import * as asn1js from "asn1js";
import {
  algorithmIdentifier,
  type AsnNode,
  explicit,
  implicitOctets,
  integer,
  octetString,
  parseDer,
  readAlgorithmIdentifier,
  readExplicit,
  readOctets,
  readOid,
  readSequence,
  readSmallInteger,
  sequence,
  toDer,
} from "./asn1.js";
import { KsefCertsError, violation } from "../errors.js";
import { msg } from "../messages/index.js";

const pbkdf2Async = promisify(pbkdf2);

const OIDS = {
  data: "1.2.840.113549.1.7.1",
  envelopedData: "1.2.840.113549.1.7.3",
  pbkdf2: "1.2.840.113549.1.5.12",
  pwriKek: "1.2.840.113549.1.9.16.3.9",
  hmacWithSHA1: "1.2.840.113549.2.7",
  hmacWithSHA224: "1.2.840.113549.2.8",
  hmacWithSHA256: "1.2.840.113549.2.9",
  hmacWithSHA384: "1.2.840.113549.2.10",
  hmacWithSHA512: "1.2.840.113549.2.11",
  aes128cbc: "2.16.840.1.101.3.4.1.2",
  aes192cbc: "2.16.840.1.101.3.4.1.22",
  aes256cbc: "2.16.840.1.101.3.4.1.42",
} as const;

const PRF_BY_OID: Readonly<Record<string, string>> = {
  [OIDS.hmacWithSHA1]: "sha1",
  [OIDS.hmacWithSHA224]: "sha224",
  [OIDS.hmacWithSHA256]: "sha256",
  [OIDS.hmacWithSHA384]: "sha384",
  [OIDS.hmacWithSHA512]: "sha512",
};
const CIPHER_BY_OID: Readonly<Record<string, { name: string; keyBytes: number }>> = {
  [OIDS.aes128cbc]: { name: "aes-128-cbc", keyBytes: 16 },
  [OIDS.aes192cbc]: { name: "aes-192-cbc", keyBytes: 24 },
  [OIDS.aes256cbc]: { name: "aes-256-cbc", keyBytes: 32 },
};

/** Default PBKDF2 iterations of {@link sealWithPassword} (OWASP 2023 figure for PBKDF2-HMAC-SHA256). */
export const CMS_PASSWORD_ITERATIONS = 600_000;
/** Most PBKDF2 iterations {@link openWithPassword} accepts (a file cannot make us spin for minutes). */
export const CMS_MAX_ITERATIONS = 10_000_000;

/** Options of {@link sealWithPassword}. */
export interface SealWithPasswordOptions {
  /** PBKDF2 iterations, 1 000 .. {@link CMS_MAX_ITERATIONS}; default {@link CMS_PASSWORD_ITERATIONS}. */
  readonly iterations?: number;
}

function cbc(cipher: string, encrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array, padding: boolean): Buffer {
  const c = encrypt ? createCipheriv(cipher, key, iv) : createDecipheriv(cipher, key, iv);
  c.setAutoPadding(padding);
  return Buffer.concat([c.update(data), c.final()]);
}

/** RFC 3211 check bytes: the complement of the first three bytes. */
function complement(bytes: Uint8Array): number[] {
  return Array.from(bytes.subarray(0, 3), (b) => ~b & 0xff);
}

function wrongPassword(): KsefCertsError {
  return new KsefCertsError("WRONG_PASSWORD", msg("bundle.wrongPassword"), {
    hint: msg("bundle.wrongPassword.hint"),
  });
}

function malformed(reason: string): KsefCertsError {
  return new KsefCertsError("MALFORMED", msg("bundle.unreadable", { reason }), {
    hint: msg("bundle.unreadable.hint"),
  });
}

/**
 * Encrypts `content` into a DER CMS ContentInfo(EnvelopedData) with one password recipient (RFC 3211).
 * @param content the bytes to protect (the bundle's tar)
 * @param password the password, UTF-8 (not empty)
 * @param options see {@link SealWithPasswordOptions}
 * @returns DER bytes (`openssl cms -decrypt -inform DER -pwri_password …` opens them)
 * @throws {KsefCertsError} VALIDATION for an empty password or iterations out of range
 */
export async function sealWithPassword(content: Uint8Array, password: string, options: SealWithPasswordOptions = {}): Promise<Uint8Array> {
  const iterations = options.iterations ?? CMS_PASSWORD_ITERATIONS;
  if (typeof password !== "string" || password.length === 0) {
    throw new KsefCertsError("VALIDATION", msg("bundle.passwordRequired"), {
      violations: [violation("password", "password.required")],
    });
  }
  if (!Number.isSafeInteger(iterations) || iterations < 1000 || iterations > CMS_MAX_ITERATIONS) {
    throw new KsefCertsError("VALIDATION", msg("bundle.iterations", { max: CMS_MAX_ITERATIONS }), {
      violations: [violation("iterations", "iterations.range", { min: 1000, max: CMS_MAX_ITERATIONS })],
    });
  }
  const salt = randomBytes(16);
  const kek = await pbkdf2Async(Buffer.from(password, "utf8"), salt, iterations, 32, "sha256");
  const cek = randomBytes(32);
  // RFC 3211 §2.3.1: length byte, check bytes (complement of the key's first three), key, random padding to whole blocks (two at least).
  const unpadded = 4 + cek.length;
  const padded = Math.max(32, Math.ceil(unpadded / 16) * 16);
  const block = Buffer.concat([Buffer.from([cek.length, ...complement(cek)]), cek, randomBytes(padded - unpadded)]);
  const kekIv = randomBytes(16);
  const inner = cbc("aes-256-cbc", true, kek, kekIv, block, false);
  const wrapped = cbc("aes-256-cbc", true, kek, inner.subarray(inner.length - 16), inner, false);
  const contentIv = randomBytes(16);
  const encrypted = cbc("aes-256-cbc", true, cek, contentIv, content, true);
  cek.fill(0);
  kek.fill(0);

  const keyDerivation = new asn1js.Constructed({
    idBlock: { tagClass: 3, tagNumber: 0 },
    value: [
      new asn1js.ObjectIdentifier({ value: OIDS.pbkdf2 }),
      sequence([octetString(salt), integer(iterations), algorithmIdentifier(OIDS.hmacWithSHA256, null)]),
    ],
  });
  const pwri = new asn1js.Constructed({
    idBlock: { tagClass: 3, tagNumber: 3 },
    value: [integer(0), keyDerivation, algorithmIdentifier(OIDS.pwriKek, algorithmIdentifier(OIDS.aes256cbc, octetString(kekIv))), octetString(wrapped)],
  });
  const envelopedData = sequence([
    // RFC 5652 §6.1: version 3 when a RecipientInfo is pwri.
    integer(3),
    new asn1js.Set({ value: [pwri] }),
    sequence([new asn1js.ObjectIdentifier({ value: OIDS.data }), algorithmIdentifier(OIDS.aes256cbc, octetString(contentIv)), implicitOctets(0, encrypted)]),
  ]);
  return toDer(sequence([new asn1js.ObjectIdentifier({ value: OIDS.envelopedData }), explicit(0, envelopedData)]));
}

function tagged(node: AsnNode | undefined, tagNumber: number): boolean {
  return node?.idBlock.tagClass === 3 && node.idBlock.tagNumber === tagNumber;
}

function childrenOf(node: AsnNode): AsnNode[] {
  return (node.valueBlock as unknown as { value?: AsnNode[] }).value ?? [];
}

interface PwriParams {
  readonly salt: Uint8Array;
  readonly iterations: number;
  readonly prf: string;
  readonly kekCipher: { name: string; keyBytes: number };
  readonly kekIv: Uint8Array;
  readonly wrapped: Uint8Array;
}

function readPwri(recipientInfos: AsnNode[]): PwriParams {
  const pwri = recipientInfos.find((r) => tagged(r, 3));
  if (pwri === undefined) throw new KsefCertsError("UNSUPPORTED", msg("bundle.noPasswordRecipient"), { details: { scheme: "CMS without PWRI" } });
  const [version, derivation, kekAlgorithm, wrappedKey] = childrenOf(pwri);
  readSmallInteger(version, "password recipient version", 0);
  if (!tagged(derivation, 0) || derivation === undefined)
    throw new KsefCertsError("UNSUPPORTED", msg("bundle.noKdf"), { details: { scheme: "PWRI without KDF" } });
  const [kdfOid, kdfParams] = childrenOf(derivation);
  if (readOid(kdfOid, "key derivation algorithm") !== OIDS.pbkdf2)
    throw new KsefCertsError("UNSUPPORTED", msg("bundle.kdfNotPbkdf2"), { details: { scheme: "PWRI KDF" } });
  const p = readSequence(kdfParams, "PBKDF2 parameters");
  const salt = readOctets(p[0], "PBKDF2 salt");
  const iterations = readSmallInteger(
    p[1],
    "PBKDF2 iterations",
    CMS_MAX_ITERATIONS,
    (v) =>
      new KsefCertsError("UNSUPPORTED", msg("bundle.tooManyIterations", { iterations: v, max: CMS_MAX_ITERATIONS }), {
        details: { scheme: "PBKDF2 iterations" },
      }),
  );
  let rest = p.slice(2);
  if (rest[0] instanceof asn1js.Integer) rest = rest.slice(1);
  const prf = rest[0] === undefined ? "sha1" : PRF_BY_OID[readAlgorithmIdentifier(rest[0], "PBKDF2 PRF").oid];
  if (prf === undefined) throw new KsefCertsError("UNSUPPORTED", msg("bundle.prfUnsupported"), { details: { scheme: "PBKDF2 PRF" } });
  const kek = readAlgorithmIdentifier(kekAlgorithm, "key encryption algorithm");
  if (kek.oid !== OIDS.pwriKek) throw new KsefCertsError("UNSUPPORTED", msg("bundle.kekNotPwri"), { details: { scheme: kek.oid } });
  const inner = readAlgorithmIdentifier(kek.params, "PWRI-KEK cipher");
  const kekCipher = CIPHER_BY_OID[inner.oid];
  if (kekCipher === undefined) throw new KsefCertsError("UNSUPPORTED", msg("bundle.kekCipherUnsupported"), { details: { scheme: inner.oid } });
  const kekIv = readOctets(inner.params, "PWRI-KEK IV");
  if (kekIv.length !== 16) throw malformed("the key encryption IV is not 16 bytes");
  return { salt, iterations, prf, kekCipher, kekIv, wrapped: readOctets(wrappedKey, "encrypted key") };
}

function unwrapKey(params: PwriParams, kek: Uint8Array): Buffer {
  const c = params.wrapped;
  if (c.length < 32 || c.length % 16 !== 0) throw malformed("the wrapped key has a wrong length");
  // RFC 3211 §2.3.2: the outer pass's IV is the last block of the inner ciphertext, recovered from the last two blocks.
  const lastInner = Buffer.from(cbc(params.kekCipher.name, false, kek, c.subarray(c.length - 32, c.length - 16), c.subarray(c.length - 16), false));
  const inner = cbc(params.kekCipher.name, false, kek, lastInner, c, false);
  const block = cbc(params.kekCipher.name, false, kek, params.kekIv, inner, false);
  const length = block[0] ?? 0;
  const check = Buffer.from(complement(block.subarray(1, 4)));
  if (length < 16 || length > block.length - 4 || !timingSafeEqual(check, block.subarray(4, 7))) throw wrongPassword();
  return Buffer.from(block.subarray(4, 4 + length));
}

/**
 * Decrypts a CMS ContentInfo(EnvelopedData) with a password recipient (RFC 3211), as written by
 * {@link sealWithPassword} or `openssl cms -encrypt -pwri_password`.
 * @param der the envelope, DER
 * @param password the password
 * @returns the content
 * @throws {KsefCertsError} WRONG_PASSWORD; MALFORMED for a damaged envelope; UNSUPPORTED for other recipient types or algorithms
 */
export async function openWithPassword(der: Uint8Array, password: string): Promise<Uint8Array> {
  const root = readSequence(parseDer(der, "bundle"), "bundle");
  if (readOid(root[0], "bundle content type") !== OIDS.envelopedData) throw malformed("it is not CMS EnvelopedData");
  const envelope = readSequence(readExplicit(root[1], 0, "bundle"), "EnvelopedData");
  let i = 1;
  if (tagged(envelope[i], 0)) i++; // originatorInfo
  const recipients = readSequence(envelope[i], "recipient infos", true);
  const eci = readSequence(envelope[i + 1], "encrypted content info");
  const contentAlgorithm = readAlgorithmIdentifier(eci[1], "content encryption algorithm");
  const contentCipher = CIPHER_BY_OID[contentAlgorithm.oid];
  if (contentCipher === undefined)
    throw new KsefCertsError("UNSUPPORTED", msg("bundle.contentCipherUnsupported"), { details: { scheme: contentAlgorithm.oid } });
  const contentIv = readOctets(contentAlgorithm.params, "content IV");
  if (eci[2] === undefined) throw malformed("it has no encrypted content");
  const encrypted = readOctets(eci[2], "encrypted content", 0);
  const params = readPwri(recipients);
  const kek = await pbkdf2Async(Buffer.from(password, "utf8"), params.salt, params.iterations, params.kekCipher.keyBytes, params.prf);
  const cek = unwrapKey(params, kek);
  kek.fill(0);
  try {
    if (cek.length !== contentCipher.keyBytes) throw wrongPassword();
    return new Uint8Array(cbc(contentCipher.name, false, cek, contentIv, encrypted, true));
  } catch (err) {
    if (err instanceof KsefCertsError) throw err;
    throw wrongPassword();
  } finally {
    cek.fill(0);
  }
}
