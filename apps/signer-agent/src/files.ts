/**
 * Small, durable file writes for the agent's own state (config, token, journal, sealed passwords): a temp
 * file in the same folder, written, fsynced, renamed over the target, then the folder fsynced, so a kill -9
 * or power loss leaves either the old or the new content, never a torn one.
 */
import { chmod, mkdir, readFile } from "node:fs/promises";
import { errnoOf, ioError, writeFileAtomic as writeDurably } from "@ksef-certs/ksef/files";
import { msg } from "@ksef-certs/ksef/messages";

/**
 * Writes `data` to `path` atomically with the given mode (default 0600: only the user may read the agent's files).
 * @param path the target file
 * @param data the bytes or UTF-8 text
 * @param mode POSIX permission bits of the new file, e.g. `0o600`
 * @throws {KsefCertsError} IO when the file system refuses (retryable for EBUSY/EAGAIN/EMFILE/ENFILE)
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  try {
    // Renamed over the old content, the folder (created 0700 when missing) fsynced after.
    await writeDurably(path, data, { mode, replace: true, folderMode: 0o700 });
  } catch (error) {
    throw ioError(msg("agent.file.writeFailed", { path }), error);
  }
}

/**
 * Reads a file, or `undefined` when it does not exist.
 * @param path the file
 * @throws {KsefCertsError} IO for any other failure
 */
export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw ioError(msg("agent.file.readFailed", { path }), error);
  }
}

/**
 * Creates a folder (and parents) readable only by the user, tightening an existing one.
 * @param path the folder
 * @throws {KsefCertsError} IO when it cannot be created
 */
export async function ensurePrivateDir(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode: 0o700 });
    await chmod(path, 0o700);
  } catch (error) {
    throw ioError(msg("agent.file.createFailed", { path }), error);
  }
}
