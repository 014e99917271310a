/**
 * Sealing secrets (key passwords, enrollment sessions) under a 32-byte master key, for unattended use: a password is
 * never stored in plaintext, and when it must be kept it is sealed with AES-256-GCM under the master key.
 *
 * Sealed format, version 1 (all lengths in bytes):
 * `0x01` ‖ nonce (12, random) ‖ AES-256-GCM ciphertext (same length as the plaintext) ‖ tag (16).
 * The GCM additional authenticated data is the version byte followed by the UTF-8 `aad` string the
 * caller names the value with (e.g. `certificate:<id>:password`): a blob copied onto another row, or
 * read back under another name, fails authentication exactly like a damaged one (NIST SP 800-38D §7;
 * 96-bit random nonces are fine for far fewer than 2^32 seals per key, §8.3).
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { KsefCertsError } from "../errors.js";
import { msg } from "../messages/index.js";

/** Master key length: 32 bytes (AES-256). */
export const MASTER_KEY_BYTES = 32;

/** First byte of every sealed value in the current format. */
export const SEAL_VERSION = 1;

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Overhead of a sealed value over its plaintext: version + nonce + tag = 29 bytes. */
export const SEAL_OVERHEAD_BYTES = 1 + NONCE_BYTES + TAG_BYTES;

/** Largest plaintext {@link seal} accepts: 1 MiB (passwords and session tokens are far smaller). */
export const MAX_SEAL_PLAINTEXT_BYTES = 1024 * 1024;

/** Largest `aad` accepted: 1 024 UTF-8 bytes (row names like `certificate:<uuid>:password`). */
const MAX_AAD_BYTES = 1024;

/**
 * Encrypts `plaintext` under `masterKey` and binds it to `aad`.
 * @param masterKey 32 bytes (from `loadMasterKey` of `@ksef-certs/domain/store`)
 * @param plaintext a string (encoded as UTF-8) or bytes, at most {@link MAX_SEAL_PLAINTEXT_BYTES}
 * @param aad what the value is and where it belongs, e.g. `certificate:<id>:password`; the same string must be given to {@link unseal}
 * @returns `0x01 ‖ nonce(12) ‖ ciphertext ‖ tag(16)`, i.e. {@link SEAL_OVERHEAD_BYTES} longer than the plaintext bytes
 * @throws {KsefCertsError} VALIDATION when the key is not 32 bytes or `aad` is empty or over 1 024 bytes
 * @throws {KsefCertsError} TOO_LARGE when the plaintext exceeds {@link MAX_SEAL_PLAINTEXT_BYTES}
 */
export function seal(masterKey: Uint8Array, plaintext: string | Uint8Array, aad: string): Uint8Array {
  assertKey(masterKey);
  const aadBytes = aadOf(aad);
  const data = typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : plaintext;
  if (data.byteLength > MAX_SEAL_PLAINTEXT_BYTES) {
    throw new KsefCertsError("TOO_LARGE", msg("seal.tooLarge", { size: data.byteLength, limitBytes: MAX_SEAL_PLAINTEXT_BYTES }), {
      details: { limitBytes: MAX_SEAL_PLAINTEXT_BYTES, sizeBytes: data.byteLength },
    });
  }
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", masterKey, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aadBytes);
  const body = Buffer.concat([cipher.update(data), cipher.final()]);
  const out = new Uint8Array(SEAL_OVERHEAD_BYTES + body.byteLength);
  out[0] = SEAL_VERSION;
  out.set(nonce, 1);
  out.set(body, 1 + NONCE_BYTES);
  out.set(cipher.getAuthTag(), 1 + NONCE_BYTES + body.byteLength);
  return out;
}

/**
 * Decrypts a value made by {@link seal} and checks it was sealed under this key with this `aad`.
 * @param masterKey 32 bytes
 * @param sealed the stored bytes
 * @param aad the name it was sealed under
 * @returns the plaintext bytes (decode with `new TextDecoder().decode(…)` for a string)
 * @throws {KsefCertsError} MALFORMED when `sealed` is shorter than {@link SEAL_OVERHEAD_BYTES}
 * @throws {KsefCertsError} UNSUPPORTED when its version byte is not {@link SEAL_VERSION}
 * @throws {KsefCertsError} FORBIDDEN when authentication fails: another master key, another `aad` (a value moved between rows), or damaged bytes
 * @throws {KsefCertsError} VALIDATION when the key is not 32 bytes or `aad` is empty or too long
 */
export function unseal(masterKey: Uint8Array, sealed: Uint8Array, aad: string): Uint8Array {
  assertKey(masterKey);
  const aadBytes = aadOf(aad);
  if (sealed.byteLength < SEAL_OVERHEAD_BYTES) {
    throw new KsefCertsError("MALFORMED", msg("seal.truncated", { min: SEAL_OVERHEAD_BYTES, size: sealed.byteLength }), {
      hint: msg("seal.truncated.hint"),
    });
  }
  if (sealed[0] !== SEAL_VERSION) {
    throw new KsefCertsError("UNSUPPORTED", msg("seal.version", { version: sealed[0] ?? "?", supported: SEAL_VERSION }), {
      hint: msg("seal.version.hint"),
      details: { scheme: `seal-v${sealed[0] ?? "?"}` },
    });
  }
  const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
  const body = sealed.subarray(1 + NONCE_BYTES, sealed.byteLength - TAG_BYTES);
  const tag = sealed.subarray(sealed.byteLength - TAG_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", masterKey, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aadBytes);
  decipher.setAuthTag(tag);
  try {
    return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
  } catch (cause) {
    throw new KsefCertsError("FORBIDDEN", msg("seal.doesNotOpen", { aad }), {
      hint: msg("seal.doesNotOpen.hint"),
      cause,
    });
  }
}

/**
 * Decodes a master key written as text: 64 hex digits, or 32 bytes in base64 (44 characters with `=`)
 * or base64url (43 characters, no padding). Surrounding whitespace is ignored.
 * @param text the encoded key
 * @param origin where it came from, named in the error (never the value itself)
 * @returns 32 bytes
 * @throws {KsefCertsError} VALIDATION when the text is not one of those encodings of exactly 32 bytes
 */
export function parseMasterKeyText(text: string, origin = "the master key"): Uint8Array {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return new Uint8Array(Buffer.from(t, "hex"));
  if (/^[A-Za-z0-9+/]{43}=$/.test(t)) return new Uint8Array(Buffer.from(t, "base64"));
  if (/^[A-Za-z0-9_-]{43}$/.test(t)) return new Uint8Array(Buffer.from(t, "base64url"));
  throw new KsefCertsError(
    "VALIDATION",
    origin === "the master key"
      ? msg("masterKey.text", { bytes: MASTER_KEY_BYTES, length: t.length })
      : msg("masterKey.text.named", { origin, bytes: MASTER_KEY_BYTES, length: t.length }),
    { hint: msg("masterKey.text.hint"), details: { origin, length: t.length } },
  );
}

function assertKey(masterKey: Uint8Array): void {
  if (masterKey.byteLength !== MASTER_KEY_BYTES) {
    throw new KsefCertsError("VALIDATION", msg("masterKey.length", { bytes: MASTER_KEY_BYTES, length: masterKey.byteLength }), {
      hint: msg("masterKey.length.hint"),
    });
  }
}

function aadOf(aad: string): Uint8Array {
  const bytes = Buffer.from(aad, "utf8");
  if (bytes.byteLength === 0 || bytes.byteLength > MAX_AAD_BYTES) {
    throw new KsefCertsError("VALIDATION", msg("seal.aadLength", { max: MAX_AAD_BYTES, size: bytes.byteLength }));
  }
  // The version byte is authenticated too, so a future format cannot be confused with this one.
  return Buffer.concat([Buffer.from([SEAL_VERSION]), bytes]);
}
