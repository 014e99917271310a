/**
 * Small, durable file writes for the agent's own state (config, token, journal, sealed passwords): a temp
 * file in the same folder, written, fsynced, renamed over the target, then the folder fsynced, so a kill -9
 * or power loss leaves either the old or the new content, never a torn one.
 */
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { chmod, mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg, type MessageRef } from "@ksef-certs/ksef/messages";

/**
 * Writes `data` to `path` atomically with the given mode (default 0600: only the user may read the agent's files).
 * @param path the target file
 * @param data the bytes or UTF-8 text
 * @param mode POSIX permission bits of the new file, e.g. `0o600`
 * @throws {KsefCertsError} IO when the file system refuses (retryable for EBUSY/EAGAIN)
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const handle = await open(temp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
    try {
      await handle.writeFile(data);
      // The umask may have narrowed or (on odd systems) the open ignored the mode: set it explicitly.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await syncDir(dir);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw ioFailure(msg("agent.file.writeFailed", { path }), error);
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
    throw ioFailure(msg("agent.file.readFailed", { path }), error);
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
    throw ioFailure(msg("agent.file.createFailed", { path }), error);
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, fsConstants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* Windows cannot fsync a folder; the rename is still atomic */
  }
}

/**
 * The `code` of a Node.js system error (`ENOENT`, `EBUSY`, …), if any.
 * @param error anything thrown
 */
export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Wraps a file-system failure as `IO` (retryable for transient errno values); a `KsefCertsError` passes through.
 * @param message what failed, naming the path (a catalogue message)
 * @param cause the original error
 */
export function ioFailure(message: MessageRef, cause: unknown): KsefCertsError {
  if (cause instanceof KsefCertsError) return cause;
  const errno = errnoOf(cause);
  return new KsefCertsError("IO", message, {
    retryable: ["EBUSY", "EAGAIN", "EMFILE", "ENFILE"].includes(errno ?? ""),
    ...(errno === undefined ? {} : { details: { errno } }),
    cause,
  });
}
