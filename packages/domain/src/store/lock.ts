/**
 * The data-folder lock: one process at a time may open the embedded PGlite database.
 *
 * PGlite takes no lock on its data directory, and two processes writing one directory corrupt it
 * (pglite issues #1106, #884 and #709 at github.com/electric-sql/pglite). So before opening,
 * {@link acquireDataDirLock} creates `<dataDir>/ksef-certs.lock` exclusively (`O_CREAT|O_EXCL`, mode 0600)
 * with `{pid, hostname, startedAt, bootId, token}`. A lock whose process is gone (or that was written
 * before this machine last booted) is stale and taken over; a live one is refused with `CONFLICT`.
 * The lock is removed by {@link DataDirLock.release}, and best-effort at process exit and on
 * SIGINT/SIGTERM/SIGHUP when nothing else handles those signals.
 *
 * The age of a lock or guard file is its mtime against the mtime of a probe file just created beside it: both
 * stamped by the file system's clock (a file server's, for a shared folder), never compared with this process's
 * clock, which may differ from it by any amount.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, unlinkSync } from "node:fs";
import { open, readFile, stat, unlink } from "node:fs/promises";
import { hostname, uptime } from "node:os";
import { dirname, join } from "node:path";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg, type MessageRef } from "@ksef-certs/ksef/messages";
import { lockFilePath } from "./paths.js";

/** What a lock file holds (JSON). */
export interface LockInfo {
  /** Process id of the holder. */
  readonly pid: number;
  /** `os.hostname()` of the holder: a pid means nothing on another machine. */
  readonly hostname: string;
  /** When the lock was taken (ISO 8601). */
  readonly startedAt: string;
  /** Linux boot id (`/proc/sys/kernel/random/boot_id`) when available: a lock from an earlier boot is stale even if its pid is alive again. */
  readonly bootId?: string;
  /** Random id of this acquisition, so a holder only ever removes its own lock. */
  readonly token: string;
}

/** A held lock. */
export interface DataDirLock {
  /** The lock file's path. */
  readonly path: string;
  /** What was written into it. */
  readonly info: LockInfo;
  /** Removes the lock file if it is still ours; safe to call more than once. */
  release(): Promise<void>;
}

/** Options of {@link acquireDataDirLock}. */
export interface AcquireLockOptions {
  /** Told about a stale lock being taken over (which process, since when). */
  readonly onProgress?: (message: string) => void;
}

/** A lock file that cannot be parsed is treated as being written right now for this long (ms), then as stale. */
const UNREADABLE_GRACE_MS = 10_000;
/** A takeover guard older than this (ms) was left by a crashed process. */
const TAKEOVER_GUARD_STALE_MS = 10_000;
/** Largest lock file read (bytes); ours are about 200. */
const MAX_LOCK_FILE_BYTES = 4096;
/** Clock slack (ms) when comparing a lock's `startedAt` with the boot time. */
const BOOT_SLACK_MS = 60_000;

/** Lock tokens held by this process, by lock path (for the exit and signal handlers). */
const held = new Map<string, string>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Takes the lock of a data folder (the folder must exist).
 * @param dataDir the data folder (its `ksef-certs.lock` is created)
 * @param options progress callback
 * @returns the held lock; call `release()` after closing the database
 * @throws {KsefCertsError} CONFLICT when a live process (on this host, or any process on another host) holds it, or
 *   another process is creating or taking over the lock at this moment (`retryable`)
 * @throws {KsefCertsError} IO when the lock file cannot be created or read
 */
export async function acquireDataDirLock(dataDir: string, options: AcquireLockOptions = {}): Promise<DataDirLock> {
  const path = lockFilePath(dataDir);
  // Two rounds: the second one runs after a stale lock was removed (a third would mean a live race, refused).
  for (let attempt = 0; attempt < 3; attempt++) {
    const info: LockInfo = {
      pid: process.pid,
      hostname: hostname(),
      startedAt: new Date().toISOString(),
      ...optional("bootId", currentBootId()),
      token: randomBytes(16).toString("hex"),
    };
    if (await createExclusive(path, `${JSON.stringify(info)}\n`)) {
      hold(path, info.token);
      return { path, info, release: () => releaseLock(path, info.token) };
    }
    const existing = await readLock(path);
    if (existing === "gone") continue;
    const verdict = await judge(path, existing);
    if (verdict.live) throw inUse(path, verdict.message, existing);
    await takeOver(path, existing, verdict.reason, options.onProgress);
  }
  throw new KsefCertsError("CONFLICT", msg("store.lock.churn", { path }), {
    hint: msg("store.lock.retry.hint"),
    retryable: true,
    details: { path },
  });
}

/**
 * Reads a lock file without taking it (for `ksef-certs status`-like diagnostics).
 * @param dataDir the data folder
 * @returns the holder, `undefined` when there is no lock file, or `"unreadable"` when it is empty or not ours
 * @throws {KsefCertsError} IO when the file exists but cannot be read
 */
export async function readDataDirLock(dataDir: string): Promise<LockInfo | "unreadable" | undefined> {
  const r = await readLock(lockFilePath(dataDir));
  if (r === "gone") return undefined;
  return r.info ?? "unreadable";
}

interface Existing {
  readonly raw: string;
  readonly info: LockInfo | undefined;
  readonly mtimeMs: number;
}

/** A live lock says why in the words of the error (`message`); a stale one why it is taken over (`reason`, a progress line). */
type Verdict = { live: true; message: MessageRef } | { live: false; reason: string };

async function judge(path: string, existing: Existing): Promise<Verdict> {
  const info = existing.info;
  const dir = dataDirOf(path);
  if (info === undefined) {
    const age = (await fileSystemNow(dirname(path))) - existing.mtimeMs;
    return age < UNREADABLE_GRACE_MS
      ? { live: true, message: msg("store.lock.inUse.creating", { dir }) }
      : { live: false, reason: `was left unreadable ${Math.round(age / 1000)} s ago` };
  }
  if (info.hostname !== hostname()) {
    // We cannot see processes there; a shared folder must not be opened from two machines.
    return { live: true, message: msg("store.lock.inUse.otherHost", { dir, pid: info.pid, host: info.hostname, since: info.startedAt }) };
  }
  const bootId = currentBootId();
  if (info.bootId !== undefined && bootId !== undefined && info.bootId !== bootId) {
    return { live: false, reason: `was left by process ${info.pid} before this machine last started` };
  }
  const started = Date.parse(info.startedAt);
  if (info.bootId === undefined && Number.isFinite(started) && started < Date.now() - uptime() * 1000 - BOOT_SLACK_MS) {
    return { live: false, reason: `was left by process ${info.pid} before this machine last started` };
  }
  if (info.pid === process.pid) {
    // Our own pid: either this process holds it (a second open here) or an earlier run that had the same pid (containers restart as pid 1).
    return held.get(path) === info.token
      ? { live: true, message: msg("store.lock.inUse.thisProcess", { dir, pid: info.pid, since: info.startedAt }) }
      : { live: false, reason: `was left by an earlier process with the same pid ${info.pid}` };
  }
  return isAlive(info.pid)
    ? { live: true, message: msg("store.lock.inUse.otherProcess", { dir, pid: info.pid, since: info.startedAt }) }
    : { live: false, reason: `was left by process ${info.pid} (no longer running) since ${info.startedAt}` };
}

async function takeOver(path: string, seen: Existing, reason: string, onProgress: ((message: string) => void) | undefined): Promise<void> {
  // A guard file makes "check it is still the stale lock, then remove it" atomic between competing openers;
  // without it, one opener could delete the lock another had just taken over.
  const guard = `${path}.takeover`;
  if (!(await createExclusive(guard, `${process.pid}\n`))) {
    const age = await ageMs(guard);
    if (age !== undefined && age > TAKEOVER_GUARD_STALE_MS) await unlink(guard).catch(() => undefined);
    throw new KsefCertsError("CONFLICT", msg("store.lock.takeoverBusy", { path }), {
      hint: msg("store.lock.retry.hint"),
      retryable: true,
      details: { path },
    });
  }
  try {
    const now = await readLock(path);
    if (now === "gone") return;
    if (now.raw !== seen.raw) return; // replaced meanwhile: the next round judges the new one
    onProgress?.(`Taking over the data folder lock: it ${reason}.`);
    await unlink(path).catch((err: unknown) => {
      if (errno(err) !== "ENOENT") throw ioError(path, "removed", err);
    });
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

async function createExclusive(path: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, "wx", 0o600);
  } catch (err) {
    if (errno(err) === "EEXIST") return false;
    throw ioError(path, "created", err);
  }
  try {
    await handle.writeFile(content, "utf8");
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw ioError(path, "written", err);
  }
  await handle.close();
  return true;
}

async function readLock(path: string): Promise<Existing | "gone"> {
  try {
    const st = await stat(path);
    if (st.size > MAX_LOCK_FILE_BYTES) return { raw: `<${st.size} bytes>`, info: undefined, mtimeMs: st.mtimeMs };
    const raw = await readFile(path, "utf8");
    return { raw, info: parseLockInfo(raw), mtimeMs: st.mtimeMs };
  } catch (err) {
    if (errno(err) === "ENOENT") return "gone";
    throw ioError(path, "read", err);
  }
}

function parseLockInfo(raw: string): LockInfo | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== "object" || v === null) return undefined;
    const o = v as Record<string, unknown>;
    if (!Number.isSafeInteger(o.pid) || (o.pid as number) <= 0) return undefined;
    if (typeof o.hostname !== "string" || typeof o.startedAt !== "string" || typeof o.token !== "string") return undefined;
    return {
      pid: o.pid as number,
      hostname: o.hostname,
      startedAt: o.startedAt,
      ...optional("bootId", typeof o.bootId === "string" ? o.bootId : undefined),
      token: o.token,
    };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user — still alive.
    return errno(err) === "EPERM";
  }
}

let bootIdCache: string | null | undefined;
function currentBootId(): string | undefined {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
    } catch {
      bootIdCache = null;
    }
  }
  return bootIdCache ?? undefined;
}

async function releaseLock(path: string, token: string): Promise<void> {
  if (held.get(path) !== token) return;
  held.delete(path);
  uninstallHandlersIfIdle();
  const now = await readLock(path).catch(() => "gone" as const);
  if (now !== "gone" && now.info?.token === token) await unlink(path).catch(() => undefined);
}

function releaseAllSync(): void {
  for (const [path, token] of held) {
    try {
      if (parseLockInfo(readFileSync(path, "utf8"))?.token === token) unlinkSync(path);
    } catch {
      // best effort: the next opener treats a lock of a dead process as stale anyway
    }
  }
  held.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Only when nothing else listens: then the default action (exit) is what would happen, and we keep it.
  // An application with its own handler shuts down itself and calls Store.close().
  if (process.listenerCount(signal) > 1) return;
  releaseAllSync();
  uninstallHandlers();
  process.kill(process.pid, signal);
}

let installed = false;
function hold(path: string, token: string): void {
  held.set(path, token);
  if (installed) return;
  installed = true;
  process.on("exit", releaseAllSync);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstallHandlersIfIdle(): void {
  if (held.size === 0) uninstallHandlers();
}

function uninstallHandlers(): void {
  if (!installed) return;
  installed = false;
  process.off("exit", releaseAllSync);
  for (const s of SIGNALS) process.off(s, onSignal);
}

/** The data folder a lock file guards. */
function dataDirOf(path: string): string {
  return path.replace(/[/\\]ksef-certs\.lock$/, "");
}

function inUse(path: string, message: MessageRef, existing: Existing): KsefCertsError {
  return new KsefCertsError("CONFLICT", message, {
    hint:
      existing.info !== undefined && existing.info.hostname !== hostname()
        ? msg("store.lock.inUse.otherHost.hint", { host: existing.info.hostname, path })
        : msg("store.lock.inUse.hint"),
    retryable: existing.info === undefined,
    details: {
      lockFile: path,
      ...(existing.info === undefined ? {} : { pid: existing.info.pid, hostname: existing.info.hostname, startedAt: existing.info.startedAt }),
    },
  });
}

async function ageMs(path: string): Promise<number | undefined> {
  try {
    const { mtimeMs } = await stat(path);
    return (await fileSystemNow(dirname(path))) - mtimeMs;
  } catch {
    return undefined;
  }
}

/** The file system's current time in a folder (Unix ms): the mtime of a probe file created there and removed. */
async function fileSystemNow(dir: string): Promise<number> {
  const probe = join(dir, `.ksef-certs.lock.clock-${randomBytes(6).toString("hex")}`);
  let handle;
  try {
    handle = await open(probe, "wx", 0o600);
  } catch (err) {
    throw ioError(probe, "created", err);
  }
  try {
    return (await handle.stat()).mtimeMs;
  } finally {
    await handle.close().catch(() => undefined);
    await unlink(probe).catch(() => undefined);
  }
}

function ioError(path: string, verb: "created" | "read" | "written" | "removed", cause: unknown): KsefCertsError {
  return new KsefCertsError("IO", msg(`store.lock.io.${verb}`, { path, errno: errno(cause) ?? "error" }), {
    hint: msg("store.lock.io.hint"),
    retryable: true,
    cause,
    details: { path },
  });
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function errno(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string" ? err.code : undefined;
}
