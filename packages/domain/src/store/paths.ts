/**
 * Where ksef-certs keeps its local state: the data folder and the files inside it.
 *
 * Layout of a data folder (created with mode 0700, it holds encrypted keys and the master key):
 * - `db/` — the embedded PGlite database,
 * - `ksef-certs.lock` — the lock that keeps a second process from opening `db/` (see `lock.ts`),
 * - `master.key` — the default master-key file for sealing passwords (see `seal.ts`).
 *
 * The default folder follows each platform's convention for per-user application data
 * (XDG Base Directory Specification on Linux, Apple's "Application Support", Windows `%APPDATA%`).
 */
import { homedir } from "node:os";
import { join, posix, win32 } from "node:path";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";

/** The folder name under the platform's user data directory. */
export const APP_DIR_NAME = "ksef-certs";

/** `dataDir` value that selects an in-memory database (tests, `--ephemeral`): nothing is written to disk. */
export const IN_MEMORY = ":memory:";

/** Longest data-folder path accepted (characters); longer values are almost certainly a mistake. */
const MAX_PATH_CHARS = 4096;

/** What {@link defaultDataDir} needs from the running process (injectable for tests). */
export interface PlatformInfo {
  /** `process.platform`: `linux`, `darwin`, `win32`, … */
  readonly platform: NodeJS.Platform;
  /** The user's home directory (absolute). */
  readonly homeDir: string;
  /** Environment variables (`XDG_DATA_HOME`, `APPDATA`). */
  readonly env: NodeJS.ProcessEnv;
}

/**
 * The per-user default data folder: `$XDG_DATA_HOME/ksef-certs` or `~/.local/share/ksef-certs` on Linux
 * and other Unix systems, `~/Library/Application Support/ksef-certs` on macOS, `%APPDATA%\ksef-certs`
 * on Windows (`<home>\AppData\Roaming\ksef-certs` when `APPDATA` is not set).
 * A relative `XDG_DATA_HOME` is ignored, as the XDG Base Directory Specification requires.
 * @param info platform, home directory and environment; defaults to the running process
 * @returns an absolute path (not created here)
 */
export function defaultDataDir(info: PlatformInfo = { platform: process.platform, homeDir: homedir(), env: process.env }): string {
  if (info.platform === "win32") {
    const appData = info.env.APPDATA;
    const base = appData !== undefined && win32.isAbsolute(appData) ? appData : win32.join(info.homeDir, "AppData", "Roaming");
    return win32.join(base, APP_DIR_NAME);
  }
  if (info.platform === "darwin") return posix.join(info.homeDir, "Library", "Application Support", APP_DIR_NAME);
  const xdg = info.env.XDG_DATA_HOME;
  const base = xdg !== undefined && posix.isAbsolute(xdg) ? xdg : posix.join(info.homeDir, ".local", "share");
  return posix.join(base, APP_DIR_NAME);
}

/**
 * The data folder to use: `explicit` (e.g. `--data-dir`), else `env.KSEF_CERTS_DATA_DIR`, else
 * {@link defaultDataDir}. {@link IN_MEMORY} is passed through unchanged.
 * @param explicit a folder given by the caller, or `undefined`
 * @param env environment variables (default `process.env`)
 * @returns {@link IN_MEMORY} or a path (relative paths are left to the caller's working directory)
 * @throws {KsefCertsError} VALIDATION when the chosen value is empty, contains a NUL byte or is longer than 4 096 characters
 */
export function resolveDataDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.KSEF_CERTS_DATA_DIR;
  const [value, origin] =
    explicit !== undefined ? [explicit, "dataDir"] : fromEnv !== undefined && fromEnv !== "" ? [fromEnv, "KSEF_CERTS_DATA_DIR"] : [undefined, "default"];
  if (value === undefined) return defaultDataDir({ platform: process.platform, homeDir: homedir(), env });
  if (value === IN_MEMORY) return value;
  if (value.trim() === "" || value.includes("\0") || value.length > MAX_PATH_CHARS) {
    throw new KsefCertsError("VALIDATION", msg("store.dataDir.unusable", { origin }), {
      hint: msg("store.dataDir.unusable.hint", { inMemory: IN_MEMORY }),
      details: { origin, length: value.length },
    });
  }
  return value;
}

/**
 * The embedded database folder inside a data folder.
 * @param dataDir a data folder (not {@link IN_MEMORY})
 */
export function databaseDir(dataDir: string): string {
  return join(dataDir, "db");
}

/**
 * The lock file that guards {@link databaseDir}.
 * @param dataDir a data folder (not {@link IN_MEMORY})
 */
export function lockFilePath(dataDir: string): string {
  return join(dataDir, "ksef-certs.lock");
}

/**
 * The default master-key file (used when `KSEF_CERTS_MASTER_KEY_FILE` is not set).
 * @param dataDir a data folder (not {@link IN_MEMORY})
 */
export function masterKeyFilePath(dataDir: string): string {
  return join(dataDir, "master.key");
}
