/**
 * File-system helpers every adapter uses, so that the adapter safety rules hold for the
 * built-ins and for vendors' adapters alike: reads never leave the source folder (no `..`, no
 * absolute paths, links only when they resolve inside it), every read has a size limit, every write
 * goes to a temp name in the same folder and is renamed over the target (readers see the old file or
 * the new one, never half of one).
 */
import { constants, type Stats } from "node:fs";
import { lstat, mkdir, open, readdir, realpath, rm, rmdir, unlink, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { KsefCertsError, violation } from "../errors.js";
import { placeFile, syncFolder, writeTempBeside } from "../files/index.js";
import type { AdapterContext, AdapterFailure, AdapterSource, AdapterTarget } from "./contract.js";
import { msg } from "../messages/index.js";

/** Size and count limits of adapter input (bytes unless said otherwise). */
export const ADAPTER_LIMITS = {
  /** A `.crt` or `.key` file: 64 KiB (core `MAX_OBJECT_BYTES`). */
  pairFileBytes: 64 * 1024,
  /** A `.p12`/`.pfx` file: 1 MiB (core `MAX_PKCS12_BYTES`). */
  pkcs12Bytes: 1024 * 1024,
  /** A manifest: 4 MiB (10 000 entries of ~400 bytes). */
  manifestBytes: 4 * 1024 * 1024,
  /** A whole bundle, and everything unpacked from it: 64 MiB. */
  bundleBytes: 64 * 1024 * 1024,
  /** Files looked at in one source folder (or archive entries). */
  files: 20_000,
  /** Folder depth below the source folder. */
  depth: 6,
} as const;

const RETRYABLE_ERRNO = new Set(["EAGAIN", "EBUSY", "EMFILE", "ENFILE", "ETIMEDOUT", "EINTR", "ECONNRESET", "EIO"]);

/**
 * A file-system error as the core taxonomy says it: `NOT_FOUND` (ENOENT), `FORBIDDEN` (EACCES, EPERM),
 * `CONFLICT` (EEXIST), else `IO` with `retryable` for transient errno values (EAGAIN, EBUSY, EMFILE, …).
 * @param err the caught error
 * @param what what was being done, e.g. `read cert.crt`
 * @param path the path involved (put in `details`, never secret)
 */
export function fsFailure(err: unknown, what: string, path: string): KsefCertsError {
  if (err instanceof KsefCertsError) return err;
  const code = (err as { code?: unknown }).code;
  const errno = typeof code === "string" ? code : "unknown";
  const details = { path, errno };
  if (errno === "ENOENT") return new KsefCertsError("NOT_FOUND", msg("fs.notFound", { what, path }), { details, cause: err });
  if (errno === "EACCES" || errno === "EPERM") return new KsefCertsError("FORBIDDEN", msg("fs.forbidden", { what, path }), { details, cause: err });
  if (errno === "EEXIST") return new KsefCertsError("CONFLICT", msg("fs.exists", { what, path }), { details, cause: err });
  const retryable = RETRYABLE_ERRNO.has(errno);
  return new KsefCertsError("IO", msg("fs.failed", { what, errno }), {
    details,
    retryable,
    cause: err,
    ...(retryable ? { hint: msg("fs.failed.retryHint") } : {}),
  });
}

/**
 * Checks a relative path from a manifest, an archive entry or a folder walk: forward slashes,
 * no empty, `.` or `..` segment, not absolute, no NUL or backslash, at most {@link ADAPTER_LIMITS.depth}
 * folders deep and 255 bytes per segment.
 * @param path the path as found
 * @param where what it came from, for the message (`manifest`, `bundle entry`)
 * @returns the path unchanged
 * @throws {KsefCertsError} FORBIDDEN for traversal or an absolute path; MALFORMED for other bad paths
 */
export function assertSafeRelativePath(path: string, where: string): string {
  if (typeof path !== "string" || path.length === 0 || path.length > 1024 || path.includes("\0") || path.includes("\\")) {
    throw new KsefCertsError("MALFORMED", msg("fs.path.unusable", { where }), { details: { where } });
  }
  const segments = path.split("/");
  if (path.startsWith("/") || isAbsolute(path) || /^[A-Za-z]:/.test(path) || segments.some((s) => s === ".." || s === "." || s === "")) {
    throw new KsefCertsError("FORBIDDEN", msg("fs.path.outside", { where, path: JSON.stringify(path) }), {
      hint: msg("fs.path.outside.hint"),
      details: { where, path },
    });
  }
  if (segments.length > ADAPTER_LIMITS.depth + 1 || segments.some((s) => Buffer.byteLength(s) > 255)) {
    throw new KsefCertsError("MALFORMED", msg("fs.path.tooDeep", { where }), { details: { where, path } });
  }
  return path;
}

function tooLarge(path: string, limitBytes: number): KsefCertsError {
  return new KsefCertsError("TOO_LARGE", msg("fs.tooLarge", { path, limitBytes }), { details: { path, limitBytes } });
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Reads one regular file below `root` by its relative path: the path is checked
 * ({@link assertSafeRelativePath}), a link is followed only when it resolves inside `root`, the size
 * is checked before reading (and again while reading).
 * @param root the source folder
 * @param relPath forward-slash relative path
 * @param maxBytes size limit
 * @returns the file's bytes
 * @throws {KsefCertsError} FORBIDDEN (outside the folder), TOO_LARGE, MALFORMED (not a regular file), NOT_FOUND, IO
 */
export async function readFileInside(root: string, relPath: string, maxBytes: number): Promise<Uint8Array> {
  assertSafeRelativePath(relPath, "source folder");
  const full = join(root, ...relPath.split("/"));
  let realRoot: string;
  let target: string;
  let stats: Stats;
  try {
    realRoot = await realpath(root);
    target = await realpath(full);
    stats = await lstat(target);
  } catch (err) {
    throw fsFailure(err, `read ${relPath}`, relPath);
  }
  if (!isInside(realRoot, target)) {
    throw new KsefCertsError("FORBIDDEN", msg("fs.linkOutside", { path: relPath }), { details: { path: relPath } });
  }
  if (!stats.isFile()) throw new KsefCertsError("MALFORMED", msg("fs.notRegularFile", { path: relPath }), { details: { path: relPath } });
  if (stats.size > maxBytes) throw tooLarge(relPath, maxBytes);
  try {
    // O_NOFOLLOW: the resolved path must not have been swapped for a link since the checks above.
    const handle = await open(target, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const buffer = Buffer.alloc(maxBytes + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length > maxBytes) throw tooLarge(relPath, maxBytes);
      }
      return new Uint8Array(buffer.subarray(0, length));
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw fsFailure(err, `read ${relPath}`, relPath);
  }
}

/** What {@link listFilesInside} found. */
export interface FolderListing {
  /** Regular files (and links to regular files inside the folder), forward-slash relative paths, sorted. */
  readonly files: readonly string[];
  /** Links leading outside the folder, and other refused entries. */
  readonly refused: readonly AdapterFailure[];
}

/**
 * Lists the files below `root` (at most {@link ADAPTER_LIMITS.depth} deep, {@link ADAPTER_LIMITS.files}
 * entries); a link is listed only when it resolves to a regular file inside `root`, else reported as refused.
 * @param root the source folder
 * @param options `maxDepth` (0 = only `root` itself; default {@link ADAPTER_LIMITS.depth})
 * @throws {KsefCertsError} NOT_FOUND / FORBIDDEN / IO for `root`; MALFORMED when `root` is not a folder; TOO_LARGE over the entry limit
 */
export async function listFilesInside(root: string, options: { readonly maxDepth?: number } = {}): Promise<FolderListing> {
  const maxDepth = options.maxDepth ?? ADAPTER_LIMITS.depth;
  let realRoot: string;
  try {
    realRoot = await realpath(root);
    if (!(await lstat(realRoot)).isDirectory()) throw new KsefCertsError("MALFORMED", msg("fs.notFolder", { path: root }), { details: { path: root } });
  } catch (err) {
    throw fsFailure(err, `open the folder ${root}`, root);
  }
  const files: string[] = [];
  const refused: AdapterFailure[] = [];
  let seen = 0;
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw fsFailure(err, `list ${rel || "."}`, rel || ".");
    }
    for (const entry of entries) {
      if (++seen > ADAPTER_LIMITS.files) {
        throw new KsefCertsError("TOO_LARGE", msg("fs.tooManyEntries", { max: ADAPTER_LIMITS.files }), { details: { limitFiles: ADAPTER_LIMITS.files } });
      }
      const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
      const child = join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        let target: string | undefined;
        try {
          target = await realpath(child);
        } catch {
          target = undefined;
        }
        if (target === undefined || !isInside(realRoot, target)) {
          refused.push({
            ref: childRel,
            error: new KsefCertsError("FORBIDDEN", msg("fs.linkOutside.folder", { path: childRel }), { details: { path: childRel } }),
          });
        } else if ((await lstat(target)).isFile()) {
          files.push(childRel);
        }
      } else if (entry.isDirectory()) {
        if (depth < maxDepth) await walk(child, childRel, depth + 1);
      } else if (entry.isFile()) {
        files.push(childRel);
      }
    }
  };
  await walk(realRoot, "", 0);
  files.sort();
  return { files, refused };
}

/**
 * Creates a folder (and its parents) with mode 0700 when missing.
 * @param path the folder
 * @param options `onWritten` is told about each folder created (parents first)
 * @throws {KsefCertsError} FORBIDDEN / IO
 */
export async function ensureFolder(path: string, options: Pick<WriteOptions, "onWritten"> = {}): Promise<void> {
  try {
    const first = await mkdir(path, { recursive: true, mode: 0o700 });
    if (first !== undefined && options.onWritten !== undefined) {
      // mkdir names the first folder it created; every folder from there down to `path` is new.
      const created = [first];
      for (let rel = relative(first, path); rel !== "" && rel !== "."; rel = dirname(rel)) created.push(join(first, rel));
      for (const dir of [first, ...created.slice(1).reverse()]) options.onWritten({ kind: "folder", path: dir });
    }
  } catch (err) {
    throw fsFailure(err, `create the folder ${path}`, path);
  }
}

/** How {@link writeFileAtomic} treats a file already at the path. */
export interface WriteOptions {
  /**
   * Replace a file with other content (default false: such a file is a CONFLICT and stays as it is). A file with
   * exactly the bytes to write is never a conflict: writing it again changes nothing.
   */
  readonly replace?: boolean;
  /** Told about each file that was replaced (its path), so the caller can audit it. */
  readonly onReplaced?: (path: string) => void;
  /**
   * Told about every change made: a file created (`previous` undefined) or replaced (`previous` = its old bytes), and
   * a folder created (`kind` `folder`); an export that fails later undoes them in reverse order.
   */
  readonly onWritten?: (change: WrittenChange) => void;
}

/** One change made by {@link writeFileAtomic} or {@link ensureFolder}, for undoing a failed export. */
export type WrittenChange =
  | { readonly kind: "file"; readonly path: string; readonly previous: Uint8Array | undefined }
  | { readonly kind: "folder"; readonly path: string };

/**
 * Writes `bytes` to `path` atomically and never silently over another file: a temp file beside it
 * (`.NAME.<random>.tmp`, exactly mode `mode`, fsynced) is linked into place, which fails instead of replacing
 * (`placeFile` of `@ksef-certs/ksef/files`, with its fallback where there are no hard links); a file
 * already there with the same bytes is left as it is, one with other bytes is a CONFLICT unless
 * `options.replace` (then renamed over it and reported through `options.onReplaced`). The folder is fsynced after a
 * change, so the new name survives a crash. A failure removes the temp file.
 * @param path the final path (its folder must exist)
 * @param bytes the content
 * @param mode file mode (default 0600: key material and certificates' pairs are private)
 * @param options replace policy (see {@link WriteOptions})
 * @throws {KsefCertsError} CONFLICT when another file is there and `replace` is not set (`details.path`); FORBIDDEN / IO
 *   (retryable for transient errors)
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, mode = 0o600, options: WriteOptions = {}): Promise<void> {
  let temp: string | undefined;
  try {
    temp = await writeTempBeside(path, bytes, mode);
    if ((await placeFile(temp, path)) === "placed") {
      options.onWritten?.({ kind: "file", path, previous: undefined });
    } else {
      const previous = await regularFileBytes(path);
      if (previous !== undefined && Buffer.from(previous).equals(bytes)) return;
      if (options.replace !== true) {
        throw new KsefCertsError("CONFLICT", msg("fs.differentContent", { path }), {
          hint: msg("fs.differentContent.hint"),
          details: { path },
        });
      }
      // The same temp file, now renamed over the other one: a reader sees the old file or the new one.
      await placeFile(temp, path, { replace: true });
      options.onReplaced?.(path);
      options.onWritten?.({ kind: "file", path, previous });
    }
    await syncFolder(dirname(path));
  } catch (err) {
    throw fsFailure(err, `write ${path}`, path);
  } finally {
    if (temp !== undefined) await unlink(temp).catch(() => undefined);
  }
}

/**
 * The {@link WriteOptions} an export's context asks for (`ctx.replace`, `ctx.onReplaced`).
 * @param ctx the adapter context
 */
export function writeOptions(ctx: Pick<AdapterContext, "replace" | "onReplaced" | "onWritten">): WriteOptions {
  return {
    ...(ctx.replace === undefined ? {} : { replace: ctx.replace }),
    ...(ctx.onReplaced === undefined ? {} : { onReplaced: ctx.onReplaced }),
    ...(ctx.onWritten === undefined ? {} : { onWritten: ctx.onWritten }),
  };
}

/** The bytes of the regular file at `path` (never through a link), or undefined when it is anything else. */
async function regularFileBytes(path: string): Promise<Uint8Array | undefined> {
  try {
    if (!(await lstat(path)).isFile()) return undefined;
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return new Uint8Array(await handle.readFile());
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * Undoes the changes of a failed export in reverse order: created files removed, replaced ones written back,
 * created folders removed when empty. Best effort: a change that cannot be undone is skipped.
 * @param changes what {@link WriteOptions.onWritten} reported, in order
 */
export async function undoWrites(changes: readonly WrittenChange[]): Promise<void> {
  for (const c of [...changes].reverse()) {
    if (c.kind === "folder") await rmdir(c.path).catch(() => undefined);
    else if (c.previous === undefined) await unlink(c.path).catch(() => undefined);
    else await writeFile(c.path, c.previous).catch(() => undefined);
  }
}

/**
 * Runs `work` while holding `<folder>/.ksef-certs.lock` (created exclusively), so two exports into one
 * folder that read-modify-write a shared file (a manifest) take turns. Waits up to `waitMs` (default 30 s).
 * @param folder the folder
 * @param work what to do while holding the lock
 * @param waitMs longest wait for the lock, in ms
 * @throws {KsefCertsError} CONFLICT (retryable) when the lock stays taken; FORBIDDEN / IO from the file system
 */
export async function withFolderLock<T>(folder: string, work: () => Promise<T>, waitMs = 30_000): Promise<T> {
  const lock = join(folder, ".ksef-certs.lock");
  const deadline = Date.now() + waitMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    try {
      const handle = await open(lock, "wx", 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (err) {
      if ((err as { code?: unknown }).code !== "EEXIST") throw fsFailure(err, `lock ${folder}`, folder);
      if (Date.now() > deadline) {
        throw new KsefCertsError("CONFLICT", msg("fs.locked", { folder }), {
          retryable: true,
          hint: msg("fs.locked.hint", { lock }),
          details: { path: lock },
        });
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { force: true });
  }
}

/**
 * The bytes of a `file` or `stream` source, at most `maxBytes`.
 * @param source the source (a `folder` source is refused)
 * @param maxBytes size limit
 * @throws {KsefCertsError} VALIDATION for a folder source; TOO_LARGE; NOT_FOUND / FORBIDDEN / IO
 */
export async function readSourceBytes(source: AdapterSource, maxBytes: number): Promise<Uint8Array> {
  if (source.kind === "folder")
    throw new KsefCertsError("VALIDATION", msg("fs.source.file"), {
      violations: [violation("source", "source.kind")],
    });
  if (source.kind === "file") {
    const full = resolve(source.path);
    return readFileInside(dirname(full), relative(dirname(full), full), maxBytes);
  }
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of source.stream) {
    length += chunk.byteLength;
    if (length > maxBytes) throw tooLarge(source.name ?? "the upload", maxBytes);
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * Writes one output to a `file` target (atomically, never silently over another file: {@link writeFileAtomic}) or a
 * `stream` target.
 * @param target the target (a `folder` target is refused)
 * @param bytes the output
 * @param options replace policy for a `file` target
 * @returns a description of where it went (the path, or the stream's name)
 * @throws {KsefCertsError} VALIDATION for a folder target; FORBIDDEN / IO
 */
export async function writeTargetBytes(target: AdapterTarget, bytes: Uint8Array, options: WriteOptions = {}): Promise<string> {
  if (target.kind === "folder")
    throw new KsefCertsError("VALIDATION", msg("fs.target.file"), {
      violations: [violation("target", "target.kind")],
    });
  if (target.kind === "file") {
    await ensureFolder(dirname(resolve(target.path)));
    await writeFileAtomic(resolve(target.path), bytes, 0o600, options);
    return resolve(target.path);
  }
  try {
    await target.write(bytes);
  } catch (err) {
    throw fsFailure(err, `write ${target.name ?? "the download"}`, target.name ?? "stream");
  }
  return target.name ?? "stream";
}

/**
 * The folder of a `folder` source or target.
 * @param where a source or target
 * @param role `source` or `target`, for the message
 * @throws {KsefCertsError} VALIDATION when it is not a folder
 */
export function folderOf(where: AdapterSource | AdapterTarget, role: "source" | "target"): string {
  if (where.kind !== "folder") {
    throw new KsefCertsError("VALIDATION", msg(role === "source" ? "fs.source.folder" : "fs.target.folder"), {
      violations: [violation(role, `${role}.kind`, { context: "folder" })],
    });
  }
  return resolve(where.path);
}

/**
 * Runs `work` over `items` with at most `limit` in flight, keeping results in input order.
 * @param items inputs
 * @param limit most in flight (≥ 1)
 * @param work the async step
 */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i] as T, i);
  });
  await Promise.all(runners);
  return results;
}
