/**
 * `@ksef-certs/ksef/files`: the one durable "write a file atomically" primitive every package uses (the hand-off
 * outbox, the adapters' outputs, the master key and audit checkpoint, the admin CLI's outputs, the signer agent's
 * state), so that the rules are written once: a reader sees the old file or the new one, never half of one; a
 * crash or power loss after the call returns does not lose the file; a file that must not be replaced is not.
 *
 * The steps are small functions a caller with its own policy can compose ({@link writeTempBeside},
 * {@link placeFile}, {@link syncFolder}); {@link writeFileAtomic} runs them in order for the callers that need no
 * more. They throw the file system's own errors (with their `code`): each caller words the failure in its own
 * catalogue message, with {@link ioError} where an `IO` error fits.
 */
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { link as fsLink, lstat, mkdir, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { KsefCertsError } from "../errors.js";
import type { MessageRef } from "../messages/index.js";

/** Errno values of a failure that may well pass on a retry: a busy file, a full descriptor table, a signal. */
export const TRANSIENT_ERRNO: ReadonlySet<string> = new Set(["EBUSY", "EAGAIN", "EMFILE", "ENFILE"]);

/**
 * {@link TRANSIENT_ERRNO} plus EPERM and EACCES: on Windows an antivirus scanner or a sync client holds a new file
 * for a moment and the file system answers "permission denied"; for folders a person shares with such tools,
 * that is worth a retry too.
 */
export const TRANSIENT_OR_LOCKED_ERRNO: ReadonlySet<string> = new Set([...TRANSIENT_ERRNO, "EPERM", "EACCES"]);

/** Errno values of `link` on a file system without hard links (FAT, exFAT, some SMB and network mounts). */
const NO_HARD_LINKS: ReadonlySet<string> = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"]);

/**
 * The `code` of a Node.js system error (`ENOENT`, `EBUSY`, …), if any.
 * @param error anything thrown
 * @returns the code, or `undefined` when `error` carries no string `code`
 */
export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Wraps a file-system failure as an `IO` error, `retryable` when its errno is in `retryableErrno`, with the errno
 * in `details.errno`. A `KsefCertsError` passes through unchanged (it already says what went wrong).
 * @param message what failed, naming the path (a catalogue message: `msg(id, params)`)
 * @param cause the caught error
 * @param retryableErrno the errno values worth a retry; default {@link TRANSIENT_ERRNO}
 * @returns the error to throw
 */
export function ioError(message: MessageRef, cause: unknown, retryableErrno: ReadonlySet<string> = TRANSIENT_ERRNO): KsefCertsError {
  if (cause instanceof KsefCertsError) return cause;
  const errno = errnoOf(cause);
  return new KsefCertsError("IO", message, {
    retryable: errno !== undefined && retryableErrno.has(errno),
    ...(errno === undefined ? {} : { details: { errno } }),
    cause,
  });
}

/**
 * Writes `data` to a new hidden file beside `path` (`.NAME.<12 hex>.tmp` in the same folder), created exclusively
 * (O_CREAT|O_EXCL: never an existing file or a planted link), with exactly `mode` (set again after opening, as the
 * umask may have removed bits), flushed to disk (fsync) and closed. Same folder, because only a rename or link
 * within one file system is atomic. When a step fails the temp file is removed before the error is thrown.
 * @param path the final path (its folder must exist)
 * @param data the content (a string is written as UTF-8)
 * @param mode POSIX permission bits, e.g. `0o600` for key material, `0o644` for what others must read
 * @returns the temp file's path; the caller moves it into place ({@link placeFile}) and removes the name left over
 * @throws the file system's error (ENOENT when the folder is missing, EACCES, ENOSPC, …)
 */
export async function writeTempBeside(path: string, data: Uint8Array | string, mode: number): Promise<string> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
  try {
    try {
      await handle.writeFile(data);
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  return temp;
}

/** Where {@link placeFile} or {@link writeFileAtomic} left things: the file is in place, or another file already was (and stays). */
export type Placement = "placed" | "existed";

/** How {@link placeFile} moves a temp file into place. */
export interface PlaceOptions {
  /** Replace a file already at the target (rename over it); default false (never replace). */
  readonly replace?: boolean;
  /** The hard-link call; default `fs.promises.link`. Tests pass one that fails like a file system without hard links. */
  readonly link?: (existingPath: string, newPath: string) => Promise<void>;
}

/**
 * Moves a finished temp file (same folder, see {@link writeTempBeside}) to `target` in one step. With `replace`:
 * `rename`, which POSIX makes atomic (a reader opens the old file or the new one) and which replaces a file
 * there. Without: `link`, which fails with EEXIST instead of replacing, so a file created meanwhile by someone
 * else is never lost; where the file system has no hard links (EPERM, ENOTSUP, EOPNOTSUPP, ENOSYS, EXDEV) it
 * falls back to checking the target, then renaming: a writer racing into that narrow window could be replaced,
 * but the result is still one whole file.
 * After a link the temp name still exists and after "existed" the temp file is untouched (a caller may compare,
 * then place it again with `replace`): the caller removes it (`unlink`, ignoring ENOENT).
 * @param temp the temp file
 * @param target the final path
 * @param options replace policy, and the link call for tests
 * @returns `"placed"`, or `"existed"` when not replacing and something is already at `target`
 * @throws the file system's error
 */
export async function placeFile(temp: string, target: string, options: PlaceOptions = {}): Promise<Placement> {
  if (options.replace === true) {
    await rename(temp, target);
    return "placed";
  }
  try {
    await (options.link ?? fsLink)(temp, target);
    return "placed";
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === "EEXIST") return "existed";
    if (errno === undefined || !NO_HARD_LINKS.has(errno)) throw error;
    if (await exists(target)) return "existed";
    await rename(temp, target);
    return "placed";
  }
}

/**
 * Flushes a folder (fsync), so that a directory entry just created or renamed survives a crash: fsync of the file
 * makes its bytes durable, not its name. Best effort: Windows cannot open a folder for fsync, and the rename or
 * link is atomic without it, so any failure is ignored.
 * @param dir the folder
 */
export async function syncFolder(dir: string): Promise<void> {
  try {
    const handle = await open(dir, fsConstants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort */
  }
}

/** How {@link writeFileAtomic} writes. */
export interface WriteFileAtomicOptions {
  /** POSIX permission bits the file gets exactly, whatever the umask, e.g. `0o600`. */
  readonly mode: number;
  /** Replace a file already at the path (default false: leave it and answer `"existed"`). */
  readonly replace?: boolean;
  /** Create the folder and its parents with this mode when missing (e.g. `0o700`); default: the folder must exist. */
  readonly folderMode?: number;
}

/**
 * Writes `data` to `path` atomically and durably: {@link writeTempBeside}, {@link placeFile} (rename over the
 * target with `replace`, else link, never replacing), {@link syncFolder}; the temp file is removed whatever happens.
 * @param path the final path
 * @param data the content (a string is written as UTF-8)
 * @param options mode, replace policy, folder creation
 * @returns `"placed"`, or `"existed"` when not replacing and a file is already at `path` (left as it is, whatever
 *   its content: the caller decides whether that is fine or a conflict)
 * @throws the file system's error (ENOENT when the folder is missing and `folderMode` is not set, EACCES, …)
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, options: WriteFileAtomicOptions): Promise<Placement> {
  const dir = dirname(path);
  if (options.folderMode !== undefined) await mkdir(dir, { recursive: true, mode: options.folderMode });
  const temp = await writeTempBeside(path, data, options.mode);
  try {
    const placement = await placeFile(temp, path, { replace: options.replace === true });
    if (placement === "placed") await syncFolder(dir);
    return placement;
  } finally {
    // After a rename the temp name is gone; after a link, or when the target existed, it must go.
    await unlink(temp).catch(() => undefined);
  }
}

/** Whether anything (a file, a folder, a link even a dangling one) is at `path`; other failures than ENOENT are thrown. */
async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return false;
    throw error;
  }
}
