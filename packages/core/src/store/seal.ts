/**
 * Sealing secrets (key passwords, enrollment sessions) under the master key, for unattended use
 * (issue 4, item 1: "a password is never stored in plaintext; for unattended use it may be sealed
 * (AES-256-GCM) under a master key from `KSEF_CERTS_MASTER_KEY` or a key file that must be mode 0600").
 *
 * Sealed format, version 1 (all lengths in bytes):
 * `0x01` ‖ nonce (12, random) ‖ AES-256-GCM ciphertext (same length as the plaintext) ‖ tag (16).
 * The GCM additional authenticated data is the version byte followed by the UTF-8 `aad` string the
 * caller names the value with (e.g. `certificate:<id>:password`): a blob copied onto another row, or
 * read back under another name, fails authentication exactly like a damaged one (NIST SP 800-38D §7;
 * 96-bit random nonces are fine for far fewer than 2^32 seals per key, §8.3).
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { link, open, rename, stat, unlink } from "node:fs/promises";
import { KsefCertsError } from "../errors.js";
import { IN_MEMORY, masterKeyFilePath, resolveDataDir } from "./paths.js";
import { writePrivateTemp } from "./private-file.js";

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

/** Largest master-key file read: 1 024 bytes (32 raw bytes, or 44/64 characters of base64/hex plus a newline). */
const MAX_KEY_FILE_BYTES = 1024;

/**
 * Encrypts `plaintext` under `masterKey` and binds it to `aad`.
 * @param masterKey 32 bytes (from {@link loadMasterKey})
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
    throw new KsefCertsError("TOO_LARGE", `The value to seal is ${data.byteLength} bytes; at most ${MAX_SEAL_PLAINTEXT_BYTES} bytes can be sealed.`, {
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
    throw new KsefCertsError("MALFORMED", `A sealed value is at least ${SEAL_OVERHEAD_BYTES} bytes; this one has ${sealed.byteLength}.`, {
      hint: "The stored value is truncated; set the secret again.",
    });
  }
  if (sealed[0] !== SEAL_VERSION) {
    throw new KsefCertsError("UNSUPPORTED", `Sealed value format version ${sealed[0] ?? "?"} is not supported (this version reads ${SEAL_VERSION}).`, {
      hint: "Upgrade ksef-certs, or set the secret again.",
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
    throw new KsefCertsError("FORBIDDEN", `The sealed value "${aad}" does not open: it was sealed with another master key, belongs to another record, or is damaged.`, {
      hint: "Use the master key the value was sealed with (KSEF_CERTS_MASTER_KEY or the master key file), or set the secret again.",
      cause,
    });
  }
}

/** Where {@link loadMasterKey} looks. */
export interface LoadMasterKeyOptions {
  /** Environment (`KSEF_CERTS_MASTER_KEY`, `KSEF_CERTS_MASTER_KEY_FILE`, `KSEF_CERTS_DATA_DIR`); default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** The data folder whose `master.key` is the default key file; default as {@link resolveDataDir}. */
  readonly dataDir?: string;
  /** Platform for the mode check (the check is skipped on `win32`, where POSIX modes mean nothing); default `process.platform`. */
  readonly platform?: NodeJS.Platform;
}

/**
 * Finds the master key: `env.KSEF_CERTS_MASTER_KEY` (32 bytes as base64, base64url or hex), else the
 * file named by `env.KSEF_CERTS_MASTER_KEY_FILE`, else `<dataDir>/master.key` when it exists.
 * A key file holds the 32 raw bytes (as {@link createMasterKeyFile} writes them) or their base64/hex text
 * (as `openssl rand -base64 32 > master.key` writes it); it must be owned by the current user and not
 * readable or writable by group or others (mode 0600 or stricter).
 * @param options environment, data folder, platform
 * @returns the 32-byte key, or `undefined` when no key is configured and the default file does not exist
 *   (callers then ask for passwords interactively)
 * @throws {KsefCertsError} VALIDATION when both variables are set, or a key is not exactly 32 bytes
 * @throws {KsefCertsError} NOT_FOUND when `KSEF_CERTS_MASTER_KEY_FILE` names a missing file
 * @throws {KsefCertsError} FORBIDDEN when the key file's mode lets group or others in, or another user owns it
 * @throws {KsefCertsError} TOO_LARGE when the key file is over 1 024 bytes
 * @throws {KsefCertsError} IO when the file cannot be read
 */
export async function loadMasterKey(options: LoadMasterKeyOptions = {}): Promise<Uint8Array | undefined> {
  const env = options.env ?? process.env;
  const fromEnv = nonEmpty(env.KSEF_CERTS_MASTER_KEY);
  const fileFromEnv = nonEmpty(env.KSEF_CERTS_MASTER_KEY_FILE);
  if (fromEnv !== undefined && fileFromEnv !== undefined) {
    throw new KsefCertsError("VALIDATION", "Both KSEF_CERTS_MASTER_KEY and KSEF_CERTS_MASTER_KEY_FILE are set; it is unclear which master key to use.", {
      hint: "Unset one of them.",
    });
  }
  if (fromEnv !== undefined) return parseMasterKeyText(fromEnv, "KSEF_CERTS_MASTER_KEY");
  if (fileFromEnv !== undefined) return readMasterKeyFile(fileFromEnv, options.platform ?? process.platform, true);
  const dataDir = resolveDataDir(options.dataDir, env);
  if (dataDir === IN_MEMORY) return undefined;
  return readMasterKeyFile(masterKeyFilePath(dataDir), options.platform ?? process.platform, false);
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
    `${origin} must be exactly ${MASTER_KEY_BYTES} bytes written as base64 (44 characters) or hex (64 characters); the value given has ${t.length} characters.`,
    { hint: "Generate one with `openssl rand -base64 32`.", details: { origin, length: t.length } },
  );
}

/**
 * Creates a new master-key file with 32 random bytes, mode 0600, atomically: the bytes go to a temporary
 * file in the same folder which is then linked into place, so the key file never exists half-written and
 * an existing one is never replaced (a lost master key makes every sealed value unreadable). The folder is
 * created (mode 0700) when missing.
 * @param path where to write, e.g. {@link masterKeyFilePath}(dataDir)
 * @returns the new key (32 bytes)
 * @throws {KsefCertsError} CONFLICT when a file already exists at `path`
 * @throws {KsefCertsError} IO when the folder or file cannot be written
 */
export async function createMasterKeyFile(path: string): Promise<Uint8Array> {
  const key = new Uint8Array(randomBytes(MASTER_KEY_BYTES));
  let tmp: string | undefined;
  try {
    tmp = await writePrivateTemp(path, key);
    try {
      // link() fails with EEXIST instead of replacing, which rename() would do silently.
      await link(tmp, path);
    } catch (err) {
      if (errno(err) === "EEXIST") throw conflict(path);
      // File systems without hard links (FAT, some network shares): check, then rename (a narrow race remains).
      if (!["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"].includes(errno(err) ?? "")) throw err;
      if (await exists(path)) throw conflict(path);
      await rename(tmp, path);
    }
    return key;
  } catch (err) {
    if (err instanceof KsefCertsError) throw err;
    throw new KsefCertsError("IO", `The master key file ${path} could not be written (${errno(err) ?? "error"}).`, {
      hint: "Check that the folder exists and is writable by this user.",
      retryable: true,
      cause: err,
    });
  } finally {
    if (tmp !== undefined) await unlink(tmp).catch(() => undefined);
  }
}

async function readMasterKeyFile(path: string, platform: NodeJS.Platform, required: boolean): Promise<Uint8Array | undefined> {
  let handle;
  try {
    handle = await open(path, fsConstants.O_RDONLY);
  } catch (err) {
    if (errno(err) === "ENOENT" && !required) return undefined;
    if (errno(err) === "ENOENT") {
      throw new KsefCertsError("NOT_FOUND", `The master key file ${path} (KSEF_CERTS_MASTER_KEY_FILE) does not exist.`, {
        hint: "Fix the path in KSEF_CERTS_MASTER_KEY_FILE, or create the file with `ksef-certs init`.",
        details: { path },
      });
    }
    throw new KsefCertsError("IO", `The master key file ${path} could not be opened (${errno(err) ?? "error"}).`, { retryable: true, cause: err, details: { path } });
  }
  try {
    // fstat on the open handle: the checked file is the read file, even if the path is swapped meanwhile.
    const st = await handle.stat();
    if (!st.isFile()) throw new KsefCertsError("MALFORMED", `The master key path ${path} is not a regular file.`, { details: { path } });
    if (platform !== "win32") {
      if ((st.mode & 0o077) !== 0) {
        const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
        throw new KsefCertsError("FORBIDDEN", `The master key file ${path} has mode ${mode}: other users could read or change it.`, {
          hint: `Restrict it to its owner: chmod 600 ${path}`,
          details: { path, mode },
        });
      }
      const uid = process.getuid?.();
      if (uid !== undefined && st.uid !== uid) {
        throw new KsefCertsError("FORBIDDEN", `The master key file ${path} belongs to another user (uid ${st.uid}, this process runs as uid ${uid}).`, {
          hint: `Run ksef-certs as the file's owner, or take ownership: chown $(id -u) ${path}`,
          details: { path, fileUid: st.uid, processUid: uid },
        });
      }
    }
    if (st.size > MAX_KEY_FILE_BYTES) {
      throw new KsefCertsError("TOO_LARGE", `The master key file ${path} is ${st.size} bytes; a master key file is at most ${MAX_KEY_FILE_BYTES} bytes.`, {
        details: { path, limitBytes: MAX_KEY_FILE_BYTES, sizeBytes: st.size },
      });
    }
    const bytes = new Uint8Array(await handle.readFile());
    if (bytes.byteLength === MASTER_KEY_BYTES) return bytes;
    return parseMasterKeyText(Buffer.from(bytes).toString("latin1"), `The master key file ${path}`);
  } finally {
    await handle.close();
  }
}

function assertKey(masterKey: Uint8Array): void {
  if (masterKey.byteLength !== MASTER_KEY_BYTES) {
    throw new KsefCertsError("VALIDATION", `A master key is ${MASTER_KEY_BYTES} bytes; the key given has ${masterKey.byteLength}.`, {
      hint: "Load the key with loadMasterKey().",
    });
  }
}

function aadOf(aad: string): Uint8Array {
  const bytes = Buffer.from(aad, "utf8");
  if (bytes.byteLength === 0 || bytes.byteLength > MAX_AAD_BYTES) {
    throw new KsefCertsError("VALIDATION", `A sealed value needs a name (aad) of 1 to ${MAX_AAD_BYTES} bytes; got ${bytes.byteLength}.`);
  }
  // The version byte is authenticated too, so a future format cannot be confused with this one.
  return Buffer.concat([Buffer.from([SEAL_VERSION]), bytes]);
}

function conflict(path: string): KsefCertsError {
  return new KsefCertsError("CONFLICT", `A master key file already exists at ${path}; it is not replaced.`, {
    hint: "Keep using it (values sealed under it need it), or move it away first if you really mean to start over.",
    details: { path },
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v;
}

function errno(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string" ? err.code : undefined;
}
