/**
 * The master key that seals secrets (key passwords, enrollment sessions) for unattended use: where it comes from
 * (`KSEF_CERTS_MASTER_KEY`, `KSEF_CERTS_MASTER_KEY_FILE`, or `<data dir>/master.key`, mode 0600) and how a new one is
 * written. Sealing itself (AES-256-GCM, the sealed format) is `seal`/`unseal` of `@ksef-certs/ksef/crypto`.
 */
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { open } from "node:fs/promises";
import { MASTER_KEY_BYTES, parseMasterKeyText } from "@ksef-certs/ksef/crypto";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { errnoOf, writeFileAtomic, type Placement } from "@ksef-certs/ksef/files";
import { msg } from "@ksef-certs/ksef/messages";
import { IN_MEMORY, masterKeyFilePath, resolveDataDir } from "./paths.js";

/** Largest master-key file read: 1 024 bytes (32 raw bytes, or 44/64 characters of base64/hex plus a newline). */
const MAX_KEY_FILE_BYTES = 1024;

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
    throw new KsefCertsError("VALIDATION", msg("store.masterKey.bothSet"), {
      hint: msg("store.masterKey.bothSet.hint"),
    });
  }
  if (fromEnv !== undefined) return parseMasterKeyText(fromEnv, "KSEF_CERTS_MASTER_KEY");
  if (fileFromEnv !== undefined) return readMasterKeyFile(fileFromEnv, options.platform ?? process.platform, true);
  const dataDir = resolveDataDir(options.dataDir, env);
  if (dataDir === IN_MEMORY) return undefined;
  return readMasterKeyFile(masterKeyFilePath(dataDir), options.platform ?? process.platform, false);
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
  let placement: Placement;
  try {
    // Linked into place, never renamed over: rename() would silently replace a key, and a lost key makes every
    // sealed value unreadable.
    placement = await writeFileAtomic(path, key, { mode: 0o600, folderMode: 0o700 });
  } catch (err) {
    throw new KsefCertsError("IO", msg("store.masterKey.unwritable", { path, errno: errnoOf(err) ?? "error" }), {
      hint: msg("store.masterKey.unwritable.hint"),
      retryable: true,
      cause: err,
    });
  }
  if (placement === "existed") throw conflict(path);
  return key;
}

async function readMasterKeyFile(path: string, platform: NodeJS.Platform, required: boolean): Promise<Uint8Array | undefined> {
  let handle;
  try {
    handle = await open(path, fsConstants.O_RDONLY);
  } catch (err) {
    if (errnoOf(err) === "ENOENT" && !required) return undefined;
    if (errnoOf(err) === "ENOENT") {
      throw new KsefCertsError("NOT_FOUND", msg("store.masterKey.missing", { path }), {
        hint: msg("store.masterKey.missing.hint"),
        details: { path },
      });
    }
    throw new KsefCertsError("IO", msg("store.masterKey.unopenable", { path, errno: errnoOf(err) ?? "error" }), {
      retryable: true,
      cause: err,
      details: { path },
    });
  }
  try {
    // fstat on the open handle: the checked file is the read file, even if the path is swapped meanwhile.
    const st = await handle.stat();
    if (!st.isFile()) throw new KsefCertsError("MALFORMED", msg("store.masterKey.notFile", { path }), { details: { path } });
    if (platform !== "win32") {
      if ((st.mode & 0o077) !== 0) {
        const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
        throw new KsefCertsError("FORBIDDEN", msg("store.masterKey.mode", { path, mode }), {
          hint: msg("store.masterKey.mode.hint", { path }),
          details: { path, mode },
        });
      }
      const uid = process.getuid?.();
      if (uid !== undefined && st.uid !== uid) {
        throw new KsefCertsError("FORBIDDEN", msg("store.masterKey.owner", { path, fileUid: st.uid, processUid: uid }), {
          hint: msg("store.masterKey.owner.hint", { path }),
          details: { path, fileUid: st.uid, processUid: uid },
        });
      }
    }
    if (st.size > MAX_KEY_FILE_BYTES) {
      throw new KsefCertsError("TOO_LARGE", msg("store.masterKey.tooLarge", { path, size: st.size, max: MAX_KEY_FILE_BYTES }), {
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

function conflict(path: string): KsefCertsError {
  return new KsefCertsError("CONFLICT", msg("store.masterKey.exists", { path }), {
    hint: msg("store.masterKey.exists.hint"),
    details: { path },
  });
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v;
}
