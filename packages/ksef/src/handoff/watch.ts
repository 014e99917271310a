/**
 * Watching a hand-off inbox for the signed `auth.xml`: a file counts only once it has stopped changing, since signing tools and sync clients write in pieces.
 *
 * chokidar 5 events are hints only (`depth: 0`, `ignoreInitial: false` so files dropped while we were
 * down are found, `awaitWriteFinish`, dotfiles and temp suffixes ignored); a periodic rescan covers missed
 * events (network shares, Windows #954). Each file is then checked by us: unchanged (size and mtime) for at
 * least `stabilityMs` as we observed it, size and mtime equal across two stats `pollIntervalMs` apart, read
 * fully (EBUSY/EPERM retried with backoff, as Windows and scanners hold new files: chokidar #538, #1237), the
 * length and mtime unchanged after the read. Files are handled one at a time, keyed by the SHA-256 of their
 * bytes, so a file saved twice is never passed on twice; hashes of files already in `processed/` are loaded
 * at start.
 *
 * How long a file has been quiet is measured from when this watcher first saw its current size and mtime, on
 * the process's monotonic clock; never by comparing the mtime with the wall clock. The mtime is stamped by
 * whoever owns the file system (a file server for a network share, with its own clock) and the wall clock can
 * be set or moved, so their difference says nothing reliable: a skew would pass a half-written file as old,
 * or hold a finished one back. mtimes are only compared with each other, as "changed or not".
 *
 * After handling, a file is moved to `<inbox>/processed/` (passed on, or a duplicate) or `<inbox>/failed/`
 * (with `<name>.reason.txt`, Polish and English), keeping its name (`-2`, `-3` … on collision), so the
 * person sees the outcome and nothing is handled twice.
 */
import { createHash } from "node:crypto";
import { lstat, mkdir, readFile, readdir, rename, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { watch, type FSWatcher } from "chokidar";
import { KsefCertsError } from "../errors.js";
import type { VerifiedAuthTokenRequest } from "../xades/verify.js";
import { xmlLimitOf } from "../xml/safe-parse.js";
import { classifySignedFile, MAX_HANDOFF_FILE_BYTES, type ClassifiedFile, type PendingSignature } from "./classify.js";
import { problemMessage, type InboxProblemKind, type ProblemMessageParams } from "./messages.js";
import { TRANSIENT_OR_LOCKED_ERRNO, errnoOf, ioError } from "../files/index.js";
import { msg } from "../messages/index.js";

/** Sub-folder of the inbox for files passed on (and their duplicates). */
export const PROCESSED_DIR = "processed";
/** Sub-folder of the inbox for files that were refused, each with `<name>.reason.txt`. */
export const FAILED_DIR = "failed";
/** Suffix of the explanation written beside a failed or duplicate file. */
export const REASON_SUFFIX = ".reason.txt";

/** Name endings of files still being written by browsers, editors and copy tools (and our own temp files). */
const TEMP_SUFFIXES = [".tmp", ".part", ".crdownload", "~", ".swp", ".download", ".partial"];

/**
 * Whether the inbox watcher leaves a file name alone: dotfiles (hidden, and our own temp files) and names
 * ending in `.tmp`, `.part`, `.crdownload`, `~`, `.swp`, `.download`, `.partial` (case-insensitive).
 * @param name a file name without folder
 */
export function isIgnoredInboxName(name: string): boolean {
  const lower = name.toLowerCase();
  return name.startsWith(".") || TEMP_SUFFIXES.some((s) => lower.endsWith(s));
}

/** A file found in the inbox. */
export interface InboxFile {
  /** Where it was found (inbox folder joined with the name). */
  readonly path: string;
  /** Its name. */
  readonly name: string;
  /** SHA-256 of its bytes, 64 lowercase hex. */
  readonly sha256: string;
  /** Its size, bytes. */
  readonly size: number;
}

/** Something about an inbox file the person or the operator should know (everything but a successful hand-off). */
export interface InboxProblem {
  /** What happened (see {@link InboxProblemKind}). */
  readonly kind: InboxProblemKind;
  /** Where the file was found; the inbox folder itself for `watch-error`. */
  readonly file: string;
  /** Where the file is now, when it was moved to `processed/` or `failed/`; absent when it stays for a retry. */
  readonly movedTo?: string;
  /** SHA-256 of the bytes, when they were read. */
  readonly sha256?: string;
  /** The verdict, for `unsigned`, `expired`, `unknown-challenge`, `wrong-signer`, `rejected`, `not-auth-request`. */
  readonly classification?: ClassifiedFile;
  /** The underlying failure for `too-complex` (the parser's refusal), `check-failed`, `unreadable`, `submit-failed`, `move-failed`, `watch-error`. */
  readonly error?: unknown;
  /** The explanation, Polish. */
  readonly pl: string;
  /** The explanation, English. */
  readonly en: string;
}

/** Options of {@link watchInbox}. */
export interface WatchInboxOptions {
  /** The requests currently waiting for a signature; called for every file, so it may change at any time. */
  readonly pending: () => readonly PendingSignature[];
  /**
   * Receives a verified signed file: `bytes` exactly as read (submit them unchanged). Awaited before the file
   * is moved to `processed/`; when it throws, the file stays in the inbox and is tried again at the next rescan
   * (so it must be idempotent for the same `file.sha256`: a crash between it and the move repeats it).
   */
  readonly onSigned: (pending: PendingSignature, bytes: Uint8Array, verified: VerifiedAuthTokenRequest, file: InboxFile) => void | Promise<void>;
  /** Called after a signed file was passed on and moved (`movedTo` is its path in `processed/`). */
  readonly onProcessed?: (pending: PendingSignature, file: InboxFile, movedTo: string) => void;
  /** Everything else that happened to a file (see {@link InboxProblem}); errors it throws are ignored. */
  readonly onProblem?: (problem: InboxProblem) => void;
  /** Whether a SHA-256 was already handled (e.g. the signer agent's journal), beside the in-memory set and `processed/`. */
  readonly isHandled?: (sha256: string) => boolean | Promise<boolean>;
  /** Period of the full rescan, ms; default 30 000. */
  readonly rescanIntervalMs?: number;
  /** How long a file must stay unchanged before it is read, ms; default 400. */
  readonly stabilityMs?: number;
  /**
   * How long a file that is not (yet) well-formed XML is left alone after its last change before it is set aside
   * as broken, ms; default 15 000. A person's program may pause longer than `stabilityMs` mid-write (a browser
   * download, a copy over the network): a truncated AuthTokenRequest is "not XML" until its last bytes arrive.
   */
  readonly incompleteGraceMs?: number;
  /** Gap between the two size/mtime checks and chokidar's write-finish polling, ms; default 100. */
  readonly pollIntervalMs?: number;
  /** Largest file read, bytes; default {@link MAX_HANDOFF_FILE_BYTES}. Bigger files go to `failed/` unread. */
  readonly maxBytes?: number;
  /** The clock for challenge expiry, certificate validity and the time in reason files; default `() => new Date()`. */
  readonly now?: () => Date;
  /**
   * Leave unsigned AuthTokenRequests where they are, unreported (default false: they go to `failed/`). For
   * watching the outbox too, where our own `auth.xml` lives and a signed file may be saved by mistake.
   */
  readonly keepUnsigned?: boolean;
  /** Poll the folder instead of OS events (network shares, where events are unreliable); default false. */
  readonly usePolling?: boolean;
}

/** A running inbox watcher (see {@link watchInbox}). */
export interface InboxWatcher {
  /** The inbox folder, resolved. */
  readonly inboxDir: string;
  /** Looks at every file in the inbox now; resolves when they have been handled (or scheduled for a later look). */
  rescan(): Promise<void>;
  /** Stops watching and waits for the file being handled to finish. */
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Retry delays for reading a file another program holds (ms). */
const READ_RETRY_DELAYS = [50, 100, 200, 400, 800];

/** How many files of `processed/` are hashed at start (newest first is not needed: duplicates are rare, the cap bounds start-up time). */
const MAX_SEEDED_FILES = 2000;

/**
 * Starts watching a hand-off inbox (see the module comment for the rules). Creates `processed/` and `failed/`.
 * Resolves once chokidar is ready and the files already present have been looked at.
 * @param inboxDir the inbox folder; must exist
 * @param options callbacks, intervals, limits and clock
 * @returns the watcher; call `close()` when done
 * @throws {KsefCertsError} NOT_FOUND when the inbox folder does not exist; IO when its sub-folders cannot be created
 */
export async function watchInbox(inboxDir: string, options: WatchInboxOptions): Promise<InboxWatcher> {
  const inbox = resolve(inboxDir);
  const st = await lstat(inbox).catch(() => undefined);
  if (st?.isDirectory() !== true) {
    throw new KsefCertsError("NOT_FOUND", msg("handoff.inbox.missing", { folder: inbox }), {
      hint: msg("handoff.inbox.missing.hint"),
      details: { folder: inbox },
    });
  }
  try {
    await mkdir(join(inbox, PROCESSED_DIR), { recursive: true });
    await mkdir(join(inbox, FAILED_DIR), { recursive: true });
  } catch (error) {
    throw ioError(msg("handoff.inbox.createFolders", { folder: inbox }), error, TRANSIENT_OR_LOCKED_ERRNO);
  }
  const w = new Watcher(inbox, options);
  await w.start();
  return w;
}

class Watcher implements InboxWatcher {
  readonly inboxDir: string;
  private readonly o: WatchInboxOptions;
  private readonly stabilityMs: number;
  private readonly incompleteGraceMs: number;
  private readonly pollMs: number;
  private readonly maxBytes: number;
  private readonly now: () => Date;
  /** SHA-256 → name of the file handled first. */
  private readonly handled = new Map<string, string>();
  /** Path → its size and mtime when first seen so, and when that was (`performance.now()`, ms). */
  private readonly observed = new Map<string, { size: number; mtimeMs: number; since: number }>();
  private readonly queued = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private chain: Promise<void> = Promise.resolve();
  private chokidar: FSWatcher | undefined;
  private interval: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(inbox: string, options: WatchInboxOptions) {
    this.inboxDir = inbox;
    this.o = options;
    this.stabilityMs = options.stabilityMs ?? 400;
    this.incompleteGraceMs = options.incompleteGraceMs ?? 15_000;
    this.pollMs = options.pollIntervalMs ?? 100;
    this.maxBytes = options.maxBytes ?? MAX_HANDOFF_FILE_BYTES;
    this.now = options.now ?? (() => new Date());
  }

  async start(): Promise<void> {
    await this.seedFromProcessed();
    const watcher = watch(this.inboxDir, {
      depth: 0,
      ignoreInitial: false,
      persistent: true,
      usePolling: this.o.usePolling ?? false,
      interval: this.pollMs,
      awaitWriteFinish: { stabilityThreshold: this.stabilityMs, pollInterval: this.pollMs },
      ignored: (path, stats) => {
        if (resolve(path) === this.inboxDir) return false;
        return isIgnoredInboxName(basename(path)) || stats?.isDirectory() === true;
      },
    });
    this.chokidar = watcher;
    watcher.on("add", (path) => {
      this.schedule(resolve(path));
    });
    watcher.on("change", (path) => {
      this.schedule(resolve(path));
    });
    watcher.on("error", (error) => {
      this.report({ kind: "watch-error", file: this.inboxDir, error }, {});
    });
    await new Promise<void>((r) =>
      watcher.once("ready", () => {
        r();
      }),
    );
    const period = this.o.rescanIntervalMs ?? 30_000;
    this.interval = setInterval(() => void this.rescan(), period);
    this.interval.unref();
    await this.rescan();
  }

  async rescan(): Promise<void> {
    if (this.closed) return;
    let names: string[] = [];
    try {
      const entries = await readdir(this.inboxDir, { withFileTypes: true });
      names = entries.filter((e) => e.isFile() && !isIgnoredInboxName(e.name)).map((e) => e.name);
    } catch (error) {
      this.report({ kind: "watch-error", file: this.inboxDir, error }, {});
    }
    const present = new Set(names.map((name) => join(this.inboxDir, name)));
    for (const path of this.observed.keys()) if (!present.has(path)) this.observed.delete(path);
    for (const name of names.sort()) this.schedule(join(this.inboxDir, name));
    await this.chain;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.interval !== undefined) clearInterval(this.interval);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.chokidar?.close();
    await this.chain;
  }

  private schedule(path: string): void {
    if (this.closed || this.queued.has(path)) return;
    this.queued.add(path);
    this.chain = this.chain.then(async () => {
      this.queued.delete(path);
      if (this.closed) return;
      try {
        await this.handle(path);
      } catch (error) {
        this.report({ kind: "watch-error", file: path, error }, { fileName: basename(path) });
      }
    });
  }

  private scheduleLater(path: string, ms: number): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.schedule(path);
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private report(problem: Omit<InboxProblem, "pl" | "en">, params: ProblemMessageParams): void {
    const message = problemMessage(problem.kind, params);
    try {
      this.o.onProblem?.({ ...problem, ...message });
    } catch {
      /* a failing listener must not stop the watcher */
    }
  }

  /** Looks at one file: stable? readable? duplicate? what is it? then passes it on or sets it aside. */
  private async handle(path: string): Promise<void> {
    const name = basename(path);
    if (isIgnoredInboxName(name)) return;
    const first = await statFile(path);
    if (first === undefined) {
      this.observed.delete(path);
      return; // gone (moved by the person, or by us) or not a regular file
    }
    if (first.size > this.maxBytes) {
      const movedTo = await this.setAside(path, FAILED_DIR, problemMessage("too-large", { size: first.size, limitBytes: this.maxBytes }), undefined);
      if (movedTo !== undefined) this.report({ kind: "too-large", file: path, movedTo }, { size: first.size, limitBytes: this.maxBytes });
      return;
    }
    // Rescans find files without a write-finish check: wait until the file has been quiet for stabilityMs.
    const age = this.quietFor(path, first);
    if (age < this.stabilityMs) await sleep(this.stabilityMs - age);
    await sleep(this.pollMs);
    const second = await statFile(path);
    if (second === undefined) return;
    if (second.size !== first.size || second.mtimeMs !== first.mtimeMs) {
      this.scheduleLater(path, this.stabilityMs);
      return;
    }
    const bytes = await this.readFully(path);
    if (bytes === undefined) return;
    const third = await statFile(path);
    if (third === undefined) return;
    if (bytes.byteLength !== second.size || third.size !== second.size || third.mtimeMs !== second.mtimeMs) {
      this.scheduleLater(path, this.stabilityMs);
      return;
    }
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const file: InboxFile = { path, name, sha256, size: bytes.byteLength };

    const firstFile = this.handled.get(sha256) ?? ((await this.o.isHandled?.(sha256)) === true ? name : undefined);
    if (firstFile !== undefined) {
      const params = { firstFile, fileName: name };
      const movedTo = await this.setAside(path, PROCESSED_DIR, problemMessage("duplicate", params), file);
      if (movedTo !== undefined) this.report({ kind: "duplicate", file: path, movedTo, sha256 }, params);
      return;
    }

    const pending = this.o.pending();
    const now = this.now();
    let classification: ClassifiedFile;
    try {
      classification = await classifySignedFile(bytes, pending, { now, maxBytes: this.maxBytes });
    } catch (error) {
      // The verdict depends on the bytes alone: a file the classifier refuses (XML too deep or too wide) or fails on
      // would be refused or failed on at every rescan, so it goes to failed/ once, explained, instead of forever.
      const tooComplex = xmlLimitOf(error) !== undefined;
      const kind = tooComplex ? "too-complex" : "check-failed";
      const params = { fileName: name, ...(tooComplex ? { error: error as KsefCertsError } : {}) };
      const movedTo = await this.setAside(path, FAILED_DIR, problemMessage(kind, params), file);
      if (movedTo !== undefined) this.report({ kind, file: path, movedTo, sha256, error }, params);
      return;
    }
    if (classification.kind === "unsigned" && this.o.keepUnsigned === true) return;
    const quietMs = this.quietFor(path, third);
    if (
      classification.kind === "rejected" &&
      (classification.reason === "not-xml" || classification.reason === "not-utf8") &&
      quietMs < this.incompleteGraceMs
    ) {
      // Possibly still being written (a truncated file is not well-formed): look again once the grace is over;
      // more bytes arriving meanwhile bring a change event sooner.
      this.scheduleLater(path, Math.max(this.stabilityMs, this.incompleteGraceMs - quietMs));
      return;
    }
    if (classification.kind !== "signed") {
      const params = { classification, fileName: name };
      const movedTo = await this.setAside(path, FAILED_DIR, problemMessage(classification.kind, params), file);
      if (movedTo !== undefined) this.report({ kind: classification.kind, file: path, movedTo, sha256, classification }, params);
      return;
    }
    try {
      await this.o.onSigned(classification.pending, bytes, classification.verified, file);
    } catch (error) {
      // The file stays where it is; the next rescan offers it again.
      this.report({ kind: "submit-failed", file: path, sha256, error }, { fileName: name });
      return;
    }
    this.handled.set(sha256, name);
    const movedTo = await this.setAside(path, PROCESSED_DIR, undefined, file);
    if (movedTo !== undefined) {
      try {
        this.o.onProcessed?.(classification.pending, file, movedTo);
      } catch {
        /* a failing listener must not stop the watcher */
      }
    }
  }

  /**
   * How long (ms) the file has had this size and mtime as far as this watcher saw: 0 when they are new to it.
   * Remembers them, so the next look measures from the first one that saw them.
   */
  private quietFor(path: string, st: { size: number; mtimeMs: number }): number {
    const at = performance.now();
    const seen = this.observed.get(path);
    if (seen !== undefined && seen.size === st.size && seen.mtimeMs === st.mtimeMs) return at - seen.since;
    this.observed.set(path, { ...st, since: at });
    return 0;
  }

  /** Reads the whole file, retrying while another program holds it; `undefined` when it vanished or stays locked. */
  private async readFully(path: string): Promise<Uint8Array | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await readFile(path);
      } catch (error) {
        const errno = errnoOf(error);
        if (errno === "ENOENT") return undefined;
        const delay = READ_RETRY_DELAYS[attempt];
        if ((errno === "EBUSY" || errno === "EPERM" || errno === "EACCES") && delay !== undefined && !this.closed) {
          await sleep(delay);
          continue;
        }
        this.report(
          { kind: "unreadable", file: path, error: ioError(msg("handoff.read", { path }), error, TRANSIENT_OR_LOCKED_ERRNO) },
          { fileName: basename(path) },
        );
        return undefined;
      }
    }
  }

  /**
   * Moves a file into `processed/` or `failed/` under its own name (`-2`, `-3` … before the extension on
   * collision) and writes `<name>.reason.txt` beside it when there is a reason; returns the new path, or
   * `undefined` (reported as `move-failed`, the file stays for the next rescan).
   */
  private async setAside(path: string, dir: string, reason: { pl: string; en: string } | undefined, file: InboxFile | undefined): Promise<string | undefined> {
    const folder = join(this.inboxDir, dir);
    const name = basename(path);
    try {
      await mkdir(folder, { recursive: true });
      for (let n = 1; n < 10_000; n++) {
        const candidate = join(folder, n === 1 ? name : numbered(name, n));
        // One mover (this queue) per inbox, so check-then-rename does not race with ourselves.
        if ((await lstat(candidate).catch(() => undefined)) !== undefined) continue;
        if ((await lstat(candidate + REASON_SUFFIX).catch(() => undefined)) !== undefined) continue;
        await rename(path, candidate);
        this.observed.delete(path);
        if (reason !== undefined) {
          const lines = [
            reason.pl,
            reason.en,
            "",
            `Plik / File: ${name}`,
            ...(file === undefined ? [] : [`SHA-256: ${file.sha256}`]),
            `Czas / Time: ${this.now().toISOString()}`,
            "",
          ];
          await writeFile(candidate + REASON_SUFFIX, lines.join("\n"), { mode: 0o644 }).catch(() => undefined);
        }
        return candidate;
      }
      throw new KsefCertsError("CONFLICT", msg("handoff.tooManyNamesakes", { name, folder }));
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return undefined; // the person took it away meanwhile
      this.report({ kind: "move-failed", file: path, error }, { fileName: name });
      return undefined;
    }
  }

  /** Loads the hashes of files already in `processed/`, so a copy dropped again after a restart is a duplicate. */
  private async seedFromProcessed(): Promise<void> {
    const folder = join(this.inboxDir, PROCESSED_DIR);
    let names: string[];
    try {
      names = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.endsWith(REASON_SUFFIX)).map((e) => e.name);
    } catch {
      return;
    }
    for (const name of names.slice(0, MAX_SEEDED_FILES)) {
      try {
        const s = await lstat(join(folder, name));
        if (s.size > this.maxBytes) continue;
        const sha256 = createHash("sha256")
          .update(await readFile(join(folder, name)))
          .digest("hex");
        if (!this.handled.has(sha256)) this.handled.set(sha256, name);
      } catch {
        /* unreadable leftovers do not stop the start */
      }
    }
  }
}

/** `lstat` of a regular file (symlinks and folders are not followed or handled); `undefined` when absent. */
async function statFile(path: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  try {
    const s = await lstat(path);
    return s.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

/** `name-<n>` with the number before the extension (`.xml.xades`, `.xml`, `.xades`, or the last one). */
function numbered(name: string, n: number): string {
  const ext = /(\.xml\.xades|\.xml\.sig|\.[A-Za-z0-9]{1,10})$/i.exec(name)?.[0] ?? "";
  const stem = name.slice(0, name.length - ext.length);
  return stem === "" ? `${name}-${n}` : `${stem}-${n}${ext}`;
}
