/**
 * The audit log's head checkpoint: a small file outside the database that records the last entry seen
 * (seq, hash, when) under a MAC keyed from the master key. The keyed chain (`audit-keys.ts`) makes every
 * entry unforgeable, but deleting entries from the end leaves a shorter chain that is still valid; the
 * checkpoint is what says how long the log was. Someone who can edit the database but not this file
 * cannot make `verifyAuditLog` accept a log that ends before the checkpoint.
 *
 * File (`audit-head.json`, mode 0600, JSON):
 * `{"format":"ksef-certs audit head","version":1,"seq":N,"hash":"<64 hex>","at":"<ISO 8601>","mac":"<64 hex>"}`
 * where `mac` is HMAC-SHA256 (RFC 2104) under the checkpoint key over the canonical JSON of every other member.
 *
 * It only moves forward: a writer replaces it only with a later head of the same chain (the entry at the
 * old seq must still have the old hash), and reports instead of writing when the log is behind it, has
 * another entry at its seq, or the file is damaged. Entries appended after the last checkpoint can still
 * be removed without trace; serve writes every few seconds and each CLI command on close, to keep that
 * window short.
 */
import { createHash } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { desc, eq, sql } from "drizzle-orm";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { errnoOf, writeFileAtomic } from "@ksef-certs/ksef/files";
import { msg } from "@ksef-certs/ksef/messages";
import { type AuditKeys, canonicalJson, deriveAuditKeys, macHex, sameDigest } from "./audit-keys.js";
import type { Db } from "./db.js";
import { IN_MEMORY, resolveDataDir } from "./paths.js";
import { auditLog } from "./schema.js";

/** File name of the checkpoint in the data folder. */
export const AUDIT_CHECKPOINT_FILE = "audit-head.json";

/** Default period of {@link startAuditCheckpoints}: 5 000 ms. */
export const AUDIT_CHECKPOINT_INTERVAL_MS = 5000;

const FORMAT = "ksef-certs audit head";
const VERSION = 1;
/** Largest checkpoint file read (bytes); a real one is about 220. */
const MAX_CHECKPOINT_BYTES = 4096;
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Transaction-level advisory lock key held while a checkpoint is read, compared and replaced, so two
 * writers on one database (serve and a CLI command on the same PostgreSQL) cannot move it backwards
 * (PostgreSQL docs §13.3.5 "Advisory Locks"). 0x6b736566 is "ksef"; the second half names the purpose
 * (1 is the migration lock in `open.ts`).
 */
const CHECKPOINT_LOCK: readonly [number, number] = [0x6b736566, 2];

/** What a checkpoint records. */
export interface AuditCheckpoint {
  /** The last entry's sequence number (≥ 1). */
  readonly seq: number;
  /** That entry's hash (64 lowercase hex digits). */
  readonly hash: string;
  /** When the checkpoint was written. */
  readonly at: Date;
}

/** A checkpoint file as read: absent, unusable (malformed, or its MAC fails under this key), or valid. */
export type AuditCheckpointRead =
  | { readonly status: "missing" }
  | { readonly status: "invalid"; readonly problem: "malformed" | "mac" }
  | { readonly status: "valid"; readonly checkpoint: AuditCheckpoint };

/** What {@link checkpointAuditHead} did. */
export interface AuditCheckpointResult {
  /**
   * - `written`: the file now names the log's head;
   * - `unchanged`: it already did (or the log is empty: nothing to record);
   * - `behind`: the log ends before the checkpoint's seq (entries were removed, or the file belongs to another database); not written;
   * - `mismatch`: the log has another entry (or none) at the checkpoint's seq; not written;
   * - `invalid`: the file is malformed or its MAC fails (edited, or written with another master key); not written.
   */
  readonly status: "written" | "unchanged" | "behind" | "mismatch" | "invalid";
  /** The log's head when checked: seq 0 and an empty hash for an empty log. */
  readonly head: { readonly seq: number; readonly hash: string };
  /** The valid checkpoint found before writing, if any. */
  readonly previous?: AuditCheckpoint;
  /** The checkpoint file. */
  readonly path: string;
}

/** Options of {@link checkpointAuditHead}. */
export interface CheckpointAuditHeadOptions {
  /** The 32-byte master key (the checkpoint key is derived from it). */
  readonly masterKey: Uint8Array;
  /** The checkpoint file ({@link auditCheckpointPath}). */
  readonly path: string;
  /** The clock for the checkpoint's `at`; default `new Date()`. */
  readonly now?: () => Date;
}

/**
 * Where the checkpoint of this installation lives: `env.KSEF_CERTS_AUDIT_CHECKPOINT` when set (useful when
 * the master key comes from the environment and the data folder is not where it should be kept), else
 * `<dataDir>/audit-head.json` (beside `master.key` and, for the embedded store, the database); for a PostgreSQL
 * database (`database`: its URL without password) `<dataDir>/audit-head-<16 hex of its SHA-256>.json`, so several
 * databases used from one data folder never share a checkpoint.
 * @param options the data folder (as `resolveDataDir` takes it), environment (default `process.env`), the PostgreSQL database
 * @returns the path, or `undefined` for an in-memory store with no `KSEF_CERTS_AUDIT_CHECKPOINT` (nothing is kept)
 * @throws {KsefCertsError} VALIDATION when the chosen path is empty, contains a NUL or is over 4 096 characters
 */
export function auditCheckpointPath(
  options: { readonly dataDir?: string; readonly env?: NodeJS.ProcessEnv; readonly database?: string } = {},
): string | undefined {
  const env = options.env ?? process.env;
  const explicit = env.KSEF_CERTS_AUDIT_CHECKPOINT;
  if (explicit !== undefined && explicit.trim() !== "") {
    if (explicit.includes("\0") || explicit.length > 4096) {
      throw new KsefCertsError("VALIDATION", msg("store.auditCheckpoint.pathUnusable"), {
        hint: msg("store.auditCheckpoint.pathUnusable.hint"),
      });
    }
    return explicit;
  }
  const dataDir = resolveDataDir(options.dataDir, env);
  if (dataDir === IN_MEMORY) return undefined;
  // Several PostgreSQL databases may be used from one data folder: each keeps a checkpoint of its own.
  if (options.database === undefined) return join(dataDir, AUDIT_CHECKPOINT_FILE);
  const id = createHash("sha256").update(options.database, "utf8").digest("hex").slice(0, 16);
  return join(dataDir, AUDIT_CHECKPOINT_FILE.replace(/\.json$/, `-${id}.json`));
}

function checkpointBody(c: { seq: number; hash: string; at: string }): string {
  return canonicalJson({ format: FORMAT, version: VERSION, seq: c.seq, hash: c.hash, at: c.at });
}

/**
 * Reads and authenticates a checkpoint file.
 * @param path the file
 * @param keys the audit keys (`deriveAuditKeys(masterKey)`); the checkpoint key is used
 * @returns missing, invalid (and why), or the checkpoint
 * @throws {KsefCertsError} IO when the file exists but cannot be read
 */
export async function readAuditCheckpoint(path: string, keys: AuditKeys): Promise<AuditCheckpointRead> {
  const key = keys.checkpoint;
  let text: string;
  try {
    const handle = await open(path, fsConstants.O_RDONLY);
    try {
      const st = await handle.stat();
      if (!st.isFile() || st.size > MAX_CHECKPOINT_BYTES) return { status: "invalid", problem: "malformed" };
      text = (await handle.readFile()).toString("utf8");
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return { status: "missing" };
    throw new KsefCertsError("IO", msg("store.auditCheckpoint.unreadable", { path, errno: errnoOf(err) ?? "error" }), {
      hint: msg("store.auditCheckpoint.unreadable.hint"),
      retryable: true,
      cause: err,
      details: { path },
    });
  }
  const parsed = parseCheckpoint(text);
  if (parsed === undefined) return { status: "invalid", problem: "malformed" };
  if (!sameDigest(macHex(checkpointBody(parsed), key), parsed.mac)) return { status: "invalid", problem: "mac" };
  return { status: "valid", checkpoint: { seq: parsed.seq, hash: parsed.hash, at: new Date(parsed.at) } };
}

function parseCheckpoint(text: string): { seq: number; hash: string; at: string; mac: string } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const { seq, hash, at, mac } = o;
  if (o["format"] !== FORMAT || o["version"] !== VERSION) return undefined;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) return undefined;
  if (typeof hash !== "string" || !HEX64.test(hash) || typeof mac !== "string" || !HEX64.test(mac)) return undefined;
  if (typeof at !== "string" || Number.isNaN(Date.parse(at))) return undefined;
  return { seq, hash, at, mac };
}

/**
 * Records the log's current head in the checkpoint file, if it moved forward along the same chain
 * (see {@link AuditCheckpointResult} for what is refused). Writers on one database are serialised by a
 * transaction-level advisory lock; the file is replaced atomically (a temporary file in the same folder,
 * flushed, then renamed; the folder flushed after), mode 0600, and its folder created (mode 0700) when missing.
 * @param db the database
 * @param options master key, checkpoint path, clock
 * @returns what was done, the head, and the previous checkpoint
 * @throws {KsefCertsError} VALIDATION when the master key is not 32 bytes
 * @throws {KsefCertsError} IO when the file cannot be read or written
 */
export async function checkpointAuditHead(db: Db, options: CheckpointAuditHeadOptions): Promise<AuditCheckpointResult> {
  const keys = deriveAuditKeys(options.masterKey);
  const { path } = options;
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${CHECKPOINT_LOCK[0]}, ${CHECKPOINT_LOCK[1]})`);
    const head = await readAuditHead(tx);
    const found = await readAuditCheckpoint(path, keys);
    if (found.status === "invalid") return { status: "invalid", head, path };
    const previous = found.status === "valid" ? found.checkpoint : undefined;
    const base = { head, path, ...(previous === undefined ? {} : { previous }) };
    if (previous !== undefined) {
      if (head.seq < previous.seq) return { ...base, status: "behind" };
      const [atSeq] = await tx.select({ hash: auditLog.hash }).from(auditLog).where(eq(auditLog.seq, previous.seq));
      if (atSeq === undefined || atSeq.hash !== previous.hash) return { ...base, status: "mismatch" };
      if (head.seq === previous.seq) return { ...base, status: "unchanged" };
    }
    if (head.seq === 0) return { ...base, status: "unchanged" };
    const at = (options.now?.() ?? new Date()).toISOString();
    const body = { seq: head.seq, hash: head.hash, at };
    const file = { format: FORMAT, version: VERSION, ...body, mac: macHex(checkpointBody(body), keys.checkpoint) };
    await writeAtomically(path, `${JSON.stringify(file)}\n`);
    return { ...base, status: "written" };
  });
}

/**
 * The log's last entry (seq 0 and an empty hash when the log is empty).
 * @param db the database
 */
export async function readAuditHead(db: Db): Promise<{ seq: number; hash: string }> {
  const [last] = await db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
  return last ?? { seq: 0, hash: "" };
}

async function writeAtomically(path: string, text: string): Promise<void> {
  try {
    // Renamed over the previous checkpoint: a reader sees the old head or the new one.
    await writeFileAtomic(path, text, { mode: 0o600, replace: true, folderMode: 0o700 });
  } catch (err) {
    throw new KsefCertsError("IO", msg("store.auditCheckpoint.unwritable", { path, errno: errnoOf(err) ?? "error" }), {
      hint: msg("store.auditCheckpoint.unwritable.hint"),
      retryable: true,
      cause: err,
      details: { path },
    });
  }
}

/** Options of {@link startAuditCheckpoints}. */
export interface AuditCheckpointScheduleOptions extends CheckpointAuditHeadOptions {
  /** How often to look at the head (ms); default {@link AUDIT_CHECKPOINT_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** Told about every checkpoint run that did not find the file already current (written, behind, mismatch, invalid). */
  readonly onResult?: (result: AuditCheckpointResult) => void;
  /** Told about a run that failed (e.g. the file could not be written); the schedule keeps going. */
  readonly onError?: (err: unknown) => void;
}

/** A running checkpoint schedule. */
export interface AuditCheckpointSchedule {
  /** Stops the timer, waits for a run in progress, and checkpoints once more (call it after the last change, before closing the store). */
  stop(): Promise<void>;
}

/**
 * Checkpoints the head at once, then every `intervalMs` when it changed since the last run, on a timer that does not
 * keep the process alive; {@link AuditCheckpointSchedule.stop} checkpoints a last time.
 * @param db the database
 * @param options master key, path, clock, period, where to report
 * @returns the schedule
 */
export function startAuditCheckpoints(db: Db, options: AuditCheckpointScheduleOptions): AuditCheckpointSchedule {
  let lastHead: string | undefined;
  let running: Promise<void> | undefined;
  const runOnce = async (always: boolean): Promise<void> => {
    try {
      if (!always && (await readAuditHead(db)).hash === lastHead) return;
      const result = await checkpointAuditHead(db, options);
      lastHead = result.head.hash;
      if (result.status !== "unchanged") options.onResult?.(result);
    } catch (err) {
      options.onError?.(err);
    }
  };
  const tick = (): void => {
    running ??= runOnce(false).finally(() => {
      running = undefined;
    });
  };
  // Once at once: a process killed before its first tick (a crash on the first start) must not leave a keyed log
  // without any checkpoint, which a later verification would rightly call suspicious.
  tick();
  const timer = setInterval(tick, options.intervalMs ?? AUDIT_CHECKPOINT_INTERVAL_MS);
  timer.unref();
  let stopping: Promise<void> | undefined;
  return {
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(timer);
        await running;
        await runOnce(true);
      })()),
  };
}
