/**
 * Reading inputs with size limits and writing outputs atomically, with file-system failures turned
 * into `KsefCertsError`s (so they map to exit codes like every other failure).
 */
import { lstat, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { writeFileAtomic } from "@ksef-certs/ksef/files";
import { msg } from "@ksef-certs/ksef/messages";
import { type CliIo, resolvePath } from "./context.js";

/** What a file operation was doing when it failed, as callers name it, and its key in the catalogue's `cli.fs.*` ids. */
const FS_ACTIONS = { read: "read", write: "write", "write into": "writeInto", check: "check", "create the folder": "createFolder" } as const;

/** A file operation {@link fsError} can report: `read`, `write`, `write into` (a folder), `check`, `create the folder`. */
export type FsAction = keyof typeof FS_ACTIONS;

/**
 * Maps a Node file-system error to a `KsefCertsError` (ENOENT → NOT_FOUND, EACCES/EPERM → FORBIDDEN,
 * EEXIST → CONFLICT, the rest → IO). Non-fs errors pass through.
 * @param err the caught error
 * @param path the path as the user gave it (shown in the message)
 * @param doing what was being done, e.g. `read` (each action has its own sentences in the catalogue)
 */
export function fsError(err: unknown, path: string, doing: FsAction): unknown {
  if (err instanceof KsefCertsError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== "string") return err;
  const details = { file: path, errno: code };
  const action = FS_ACTIONS[doing];
  switch (code) {
    case "ENOENT":
      return new KsefCertsError("NOT_FOUND", msg(`cli.fs.notFound.${action}`, { path }), { hint: msg("cli.fs.notFound.hint"), details, cause: err });
    case "EACCES":
    case "EPERM":
      return new KsefCertsError("FORBIDDEN", msg(`cli.fs.forbidden.${action}`, { path }), {
        hint: msg("cli.fs.forbidden.hint"),
        details,
        cause: err,
      });
    case "EEXIST":
      return new KsefCertsError("CONFLICT", msg("cli.fs.exists", { path }), {
        hint: msg("cli.fs.exists.hint"),
        details,
        cause: err,
      });
    case "EISDIR":
      return new KsefCertsError("IO", msg(`cli.fs.directory.${action}`, { path }), { hint: msg("cli.fs.directory.hint"), details, cause: err });
    default:
      return new KsefCertsError("IO", msg(`cli.fs.other.${action}`, { path, code }), {
        hint: msg("cli.fs.other.hint"),
        details,
        retryable: code === "EAGAIN" || code === "EBUSY" || code === "EMFILE" || code === "ENFILE",
        cause: err,
      });
  }
}

/**
 * Reads a whole input file, refusing one larger than `limitBytes` before reading it.
 * @param io the run's surface (for the working directory)
 * @param path as given on the command line
 * @param limitBytes the largest size accepted, in bytes
 * @param what what the file should be, for messages (e.g. `private key file`)
 * @returns the file's bytes
 * @throws {KsefCertsError} `NOT_FOUND`, `FORBIDDEN`, `IO` from the file system; `TOO_LARGE` over the limit (`details.limitBytes`)
 */
export async function readInput(io: CliIo, path: string, limitBytes: number, what: string): Promise<Uint8Array> {
  const full = resolvePath(io, path);
  try {
    const info = await stat(full);
    if (info.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    if (info.size > limitBytes) {
      throw new KsefCertsError("TOO_LARGE", msg("cli.file.tooLarge", { path, size: info.size, what, limit: limitBytes }), {
        hint: msg("cli.file.tooLarge.hint", { what }),
        details: { file: path, limitBytes, sizeBytes: info.size },
      });
    }
    const bytes = await readFile(full);
    if (bytes.byteLength > limitBytes) {
      throw new KsefCertsError("TOO_LARGE", msg("cli.file.grew", { path, limit: limitBytes }), { details: { file: path, limitBytes } });
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (err) {
    throw fsError(err, path, "read");
  }
}

/** One file to write. */
export interface OutputFile {
  /** As given on the command line. */
  readonly path: string;
  readonly data: Uint8Array | string;
  /** Permission bits: 0o600 for anything holding a key, 0o644 otherwise. */
  readonly mode: number;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/**
 * Writes every file atomically: each goes to a temporary file in its target directory (created
 * with `mode`, flushed to disk) that then replaces the target in one step, so a reader never sees
 * half a key. Without `force`, every target is checked first (nothing is written if one exists)
 * and each is put in place with a hard link, which fails rather than replace a file created meanwhile.
 * @param io the run's surface
 * @param files the outputs
 * @param force whether existing targets may be replaced
 * @returns the absolute paths written
 * @throws {KsefCertsError} `CONFLICT` when a target exists and `force` is off; `VALIDATION` when two outputs
 *   name the same file; `NOT_FOUND`, `FORBIDDEN`, `IO` from the file system
 */
export async function writeOutputs(io: CliIo, files: readonly OutputFile[], force: boolean): Promise<string[]> {
  const targets = await checkOutputs(
    io,
    files.map((f) => f.path),
    force,
  );
  for (const [i, file] of files.entries()) {
    const target = targets[i] ?? resolvePath(io, file.path);
    await writeOne(target, file, force);
  }
  return targets;
}

/**
 * Checks outputs before any work is done (so a user is not asked for passwords only to learn the
 * target exists): distinct names, and, without `force`, none exists yet. {@link writeOutputs} checks
 * again when it writes.
 * @param io the run's surface
 * @param paths the output paths as given
 * @param force whether existing targets may be replaced
 * @returns the absolute paths
 * @throws {KsefCertsError} `CONFLICT` when a target exists and `force` is off; `VALIDATION` when two outputs
 *   name the same file; `FORBIDDEN`, `IO` from the file system
 */
export async function checkOutputs(io: CliIo, paths: readonly string[], force: boolean): Promise<string[]> {
  const targets = paths.map((p) => resolvePath(io, p));
  if (new Set(targets).size !== targets.length) {
    throw new KsefCertsError("VALIDATION", msg("cli.file.sameOutput"), { hint: msg("cli.file.sameOutput.hint") });
  }
  for (const [i, target] of targets.entries()) {
    const dir = dirname(target);
    try {
      if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    } catch (err) {
      throw fsError(err, dirname(paths[i] ?? target), "write into");
    }
  }
  if (!force) {
    for (const [i, target] of targets.entries()) {
      const path = paths[i] ?? target;
      let taken: boolean;
      try {
        taken = await exists(target);
      } catch (err) {
        throw fsError(err, path, "check");
      }
      if (taken) throw fsError(Object.assign(new Error("exists"), { code: "EEXIST" }), path, "write");
    }
  }
  return targets;
}

async function writeOne(target: string, file: OutputFile, force: boolean): Promise<void> {
  try {
    // With --force renamed over the target; without, linked, which fails rather than replace a file created since the check.
    if ((await writeFileAtomic(target, file.data, { mode: file.mode, replace: force })) === "existed") {
      throw Object.assign(new Error("exists"), { code: "EEXIST" });
    }
  } catch (err) {
    throw fsError(err, file.path, "write");
  }
}
