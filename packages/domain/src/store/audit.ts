/**
 * The append-only audit log with a keyed hash chain.
 *
 * Each entry's `hash` is a MAC over the canonical JSON (keys sorted, no whitespace) of
 * `{seq, at, actor, action, entityType, entityId, before, after, prevHash}`; `prevHash` is the previous
 * entry's hash (64 zeros for the first). With a master key bound to the database ({@link bindAuditKey}),
 * the MAC is HMAC-SHA256 under a key derived from it (`audit-keys.ts`) and the row says so
 * (`hashScheme = 'hmac-sha256'`); someone with only database access can then neither edit an entry and
 * recompute the chain, nor append one. Entries written before any master key existed carry a plain
 * SHA-256 (`'sha256'`): they are accepted only as a prefix of the log (the first keyed entry's MAC covers
 * their last hash), and a process without the key may not append after a keyed entry.
 *
 * Deleting entries from the end is what a chain alone cannot show; {@link verifyAuditLog} compares the
 * log with the keyed head checkpoint kept outside the database (`audit-checkpoint.ts`).
 *
 * Appends take a table lock inside the caller's transaction, so concurrent writers (two processes on
 * one PostgreSQL) cannot fork the chain.
 */
import { asc, desc, sql } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg, type MessageRef } from "@ksef-certs/ksef/messages";
import { type AuditCheckpointRead, readAuditCheckpoint } from "./audit-checkpoint.js";
import { type AuditHashScheme, type AuditKeys, boundAuditKeys, canonicalJson, deriveAuditKeys, macHex, sameDigest } from "./audit-keys.js";
import type { Db } from "./db.js";
import { auditLog } from "./schema.js";

export { canonicalJson } from "./audit-keys.js";

/** `prevHash` of the first entry. */
export const AUDIT_GENESIS_HASH = "0".repeat(64);

/** Field names never written to the log, at any depth (secrets: keys, passwords, sealed blobs, tokens). */
const SECRET_FIELD = /^(password|passphrase|keyFile|privateKey|sealedPassword|key|secret|token|accessToken|refreshToken|authenticationToken|masterKey)$/i;

/** What a use case records about one change. */
export interface AuditEntryInput {
  /** Who: a user name, `cli:<os user>`, `system` for automatic steps (e.g. a queued certificate taking over). */
  readonly actor: string;
  /** What, as `<entity>.<verb>`, e.g. `certificate.import`, `enrollment.state`. */
  readonly action: string;
  /** The kind of thing changed: `company`, `branch`, `operator`, `workstation`, `certificate`, `enrollment`. */
  readonly entityType: string;
  readonly entityId?: string | undefined;
  /** State before and after, without secrets (secret-named fields are dropped here as a last line of defence). */
  readonly before?: unknown;
  readonly after?: unknown;
  /** When; default now. */
  readonly at?: Date;
}

/** One stored entry. */
export interface AuditEntry {
  readonly seq: number;
  readonly at: Date;
  readonly actor: string;
  readonly action: string;
  readonly entityType: string;
  readonly entityId: string | null;
  readonly before: unknown;
  readonly after: unknown;
  readonly prevHash: string;
  readonly hash: string;
  /** How `hash` was made: `hmac-sha256` under the audit key, or `sha256` (no master key was bound). */
  readonly hashScheme: AuditHashScheme;
}

/**
 * Why an entry fails verification:
 * - `hash`: its content does not match its MAC (edited, or edited and re-hashed without the key);
 * - `chain`: its `prevHash` is not the previous entry's hash (entries changed, removed, inserted or swapped);
 * - `sequence`: its seq is not the next one (an entry before it is missing, or the rows were renumbered);
 * - `truncated`: the checkpoint names a later entry than the log's last one (entries were removed from the end);
 *   the seq reported is the first missing one;
 * - `checkpoint`: the entry at the checkpoint's seq has another hash; or the checkpoint file is damaged, or is
 *   missing while the log has keyed entries (then the seq reported is the one after the log's last: from there
 *   on, removal cannot be ruled out);
 * - `unkeyed`: a plain SHA-256 entry after a keyed one (written, or rewritten, without the key).
 */
export type AuditBadReason = "hash" | "chain" | "sequence" | "truncated" | "checkpoint" | "unkeyed";

/** Result of {@link verifyAuditLog}. */
export interface AuditVerification {
  readonly ok: boolean;
  /** Entries checked (before the first bad one). */
  readonly entries: number;
  /** How many of those carry a plain SHA-256 (written before a master key existed). */
  readonly unkeyed: number;
  /** The first entry that does not verify, and why. */
  readonly firstBad?: { readonly seq: number; readonly reason: AuditBadReason };
  /** Hash of the last entry checked. */
  readonly head: string;
  /** The checkpoint file as read, when one was given. */
  readonly checkpoint?: AuditCheckpointRead;
}

/** Options of {@link verifyAuditLog}. */
export interface VerifyAuditLogOptions {
  /** The master key (default: the one bound to `db` by {@link bindAuditKey}); needed when the log has keyed entries. */
  readonly masterKey?: Uint8Array;
  /** The head checkpoint file (`auditCheckpointPath`); without it, entries removed from the end cannot be noticed. */
  readonly checkpoint?: string;
  /** Called every 1 000 entries with the count so far (for long logs). */
  readonly onProgress?: (checked: number) => void;
}

/**
 * A copy of `value` without secret-named fields (at any depth) and with binary data replaced by its size.
 * @param value a before/after snapshot
 */
export function redactForAudit(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return { bytes: value.byteLength };
  if (Array.isArray(value)) return value.map(redactForAudit);
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (SECRET_FIELD.test(k) || v === undefined) continue;
      out[k] = redactForAudit(v);
    }
    return out;
  }
  return value;
}

function entryBody(e: Omit<AuditEntry, "hash" | "hashScheme">): string {
  return canonicalJson({
    seq: e.seq,
    at: e.at.toISOString(),
    actor: e.actor,
    action: e.action,
    entityType: e.entityType,
    entityId: e.entityId,
    before: e.before,
    after: e.after,
    prevHash: e.prevHash,
  });
}

/**
 * Appends one entry. Call it inside the transaction that makes the change, so the change and its entry
 * commit together (or not at all). Keyed when a master key is bound to the database ({@link bindAuditKey}).
 * @param db the transaction of the change (given the database itself, the entry gets a transaction of its own)
 * @param input who, what, which entity, before/after (secrets dropped)
 * @returns the stored entry
 * @throws {KsefCertsError} FORBIDDEN when the log already has keyed entries and no master key is bound (the change is rolled back with it)
 */
export async function appendAudit(db: Db, input: AuditEntryInput): Promise<AuditEntry> {
  if (!isTransaction(db)) return db.transaction((tx) => appendInTransaction(tx, input));
  return appendInTransaction(db, input);
}

/** Not a type guard on purpose: narrowing would lose the schema generic of {@link Db}. */
function isTransaction(db: Db): boolean {
  return db instanceof PgTransaction;
}

interface Head {
  readonly seq: number;
  readonly hash: string;
}

/**
 * Locks the log for the rest of the transaction and returns its head (last seq and hash; 0 and genesis when
 * empty), after checking that this process may extend it.
 */
async function lockHead(db: Db, keys: AuditKeys | undefined): Promise<Head> {
  // One writer at a time across connections and processes: the chain has exactly one head.
  await db.execute(sql`LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE`);
  const [last] = await db
    .select({ seq: auditLog.seq, hash: auditLog.hash, hashScheme: auditLog.hashScheme })
    .from(auditLog)
    .orderBy(desc(auditLog.seq))
    .limit(1);
  if (keys === undefined && last !== undefined && last.hashScheme !== "sha256") throw masterKeyNeeded(msg("store.audit.masterKeyNeeded.append"));
  return { seq: last?.seq ?? 0, hash: last?.hash ?? AUDIT_GENESIS_HASH };
}

function masterKeyNeeded(message: MessageRef): KsefCertsError {
  return new KsefCertsError("FORBIDDEN", message, {
    hint: msg("store.audit.masterKeyNeeded.hint"),
  });
}

/** The entry following `prev` in the chain, hash included. */
function chainEntry(input: AuditEntryInput, prev: Head, now: Date, keys: AuditKeys | undefined): AuditEntry {
  const draft = {
    seq: prev.seq + 1,
    at: new Date(Math.floor((input.at ?? now).getTime())),
    actor: input.actor,
    action: input.action,
    entityType: input.entityType,
    entityId: input.entityId ?? null,
    before: redactForAudit(input.before) ?? null,
    after: redactForAudit(input.after) ?? null,
    prevHash: prev.hash,
  };
  return { ...draft, hash: macHex(entryBody(draft), keys?.entry), hashScheme: keys === undefined ? "sha256" : "hmac-sha256" };
}

async function appendInTransaction(db: Db, input: AuditEntryInput): Promise<AuditEntry> {
  const keys = boundAuditKeys(db);
  const entry = chainEntry(input, await lockHead(db, keys), new Date(), keys);
  await db.insert(auditLog).values(entry);
  return entry;
}

/** Rows per multi-row insert of {@link appendAuditBatch} (11 columns each: well under PostgreSQL's 65 535 parameters). */
const AUDIT_BATCH_ROWS = 1000;

/**
 * Appends several entries in order, as many {@link appendAudit} calls would, with one lock, one head
 * read and multi-row inserts: the chain (seq, prevHash, hash) is exactly the one {@link verifyAuditLog}
 * expects. Call it inside the transaction that makes the changes.
 * @param db the transaction of the changes (given the database itself, the entries get a transaction of their own)
 * @param inputs the entries, in the order they happened (secrets dropped as in {@link appendAudit})
 * @returns the stored entries, in order
 * @throws {KsefCertsError} FORBIDDEN as {@link appendAudit}
 */
export async function appendAuditBatch(db: Db, inputs: readonly AuditEntryInput[]): Promise<AuditEntry[]> {
  if (inputs.length === 0) return [];
  if (!isTransaction(db)) return db.transaction((tx) => appendBatchInTransaction(tx, inputs));
  return appendBatchInTransaction(db, inputs);
}

async function appendBatchInTransaction(db: Db, inputs: readonly AuditEntryInput[]): Promise<AuditEntry[]> {
  const keys = boundAuditKeys(db);
  let prev: Head = await lockHead(db, keys);
  const now = new Date();
  const entries = inputs.map((input) => (prev = chainEntry(input, prev, now, keys)));
  for (let i = 0; i < entries.length; i += AUDIT_BATCH_ROWS) await db.insert(auditLog).values(entries.slice(i, i + AUDIT_BATCH_ROWS));
  return entries;
}

/**
 * Reads the whole log in order and checks every entry's MAC (or plain SHA-256, for the unkeyed prefix),
 * its link to the previous one, and the log against the head checkpoint. Stops at the first bad entry.
 * The checkpoint is read before the log, so entries appended meanwhile do not count as a difference.
 * @param db the database
 * @param options master key (default: the bound one), checkpoint file, progress callback
 * @returns whether the log is intact, how many entries were checked, and the first bad one with the reason
 * @throws {KsefCertsError} FORBIDDEN when the log has keyed entries, or a checkpoint is given, and there is no master key
 * @throws {KsefCertsError} VALIDATION when the master key is not 32 bytes
 * @throws {KsefCertsError} IO when the checkpoint file exists but cannot be read
 */
export async function verifyAuditLog(db: Db, options: VerifyAuditLogOptions = {}): Promise<AuditVerification> {
  const keys = options.masterKey === undefined ? boundAuditKeys(db) : deriveAuditKeys(options.masterKey);
  const noKey = (): KsefCertsError => masterKeyNeeded(msg("store.audit.masterKeyNeeded.verify"));
  let checkpoint: AuditCheckpointRead | undefined;
  if (options.checkpoint !== undefined) {
    if (keys === undefined) throw noKey();
    checkpoint = await readAuditCheckpoint(options.checkpoint, keys);
  }
  const mark = checkpoint?.status === "valid" ? checkpoint.checkpoint : undefined;
  let prevHash = AUDIT_GENESIS_HASH;
  let expectedSeq = 1;
  let entries = 0;
  let unkeyed = 0;
  let keyedSeen = false;
  const result = (firstBad?: { seq: number; reason: AuditBadReason }): AuditVerification => ({
    ok: firstBad === undefined,
    entries,
    unkeyed,
    ...(firstBad === undefined ? {} : { firstBad }),
    head: prevHash,
    ...(checkpoint === undefined ? {} : { checkpoint }),
  });
  const pageSize = 1000;
  for (;;) {
    const rows = await db
      .select()
      .from(auditLog)
      .where(sql`${auditLog.seq} >= ${expectedSeq}`)
      .orderBy(asc(auditLog.seq))
      .limit(pageSize);
    for (const row of rows) {
      if (row.seq !== expectedSeq) return result({ seq: row.seq, reason: "sequence" });
      if (row.prevHash !== prevHash) return result({ seq: row.seq, reason: "chain" });
      const body = entryBody(row);
      // Read as a plain string: the column's type names two schemes, the stored row may say anything.
      const scheme: string = row.hashScheme;
      if (scheme === "hmac-sha256") {
        if (keys === undefined) throw noKey();
        if (!sameDigest(macHex(body, keys.entry), row.hash)) return result({ seq: row.seq, reason: "hash" });
        keyedSeen = true;
      } else if (scheme === "sha256") {
        if (keyedSeen) return result({ seq: row.seq, reason: "unkeyed" });
        if (macHex(body, undefined) !== row.hash) return result({ seq: row.seq, reason: "hash" });
        unkeyed++;
      } else {
        // Only reachable when the column's check constraint was dropped: nothing vouches for this row.
        return result({ seq: row.seq, reason: "hash" });
      }
      if (mark !== undefined && row.seq === mark.seq && !sameDigest(row.hash, mark.hash)) return result({ seq: row.seq, reason: "checkpoint" });
      prevHash = row.hash;
      expectedSeq++;
      entries++;
    }
    options.onProgress?.(entries);
    if (rows.length < pageSize) break;
  }
  if (mark !== undefined && mark.seq >= expectedSeq) return result({ seq: expectedSeq, reason: "truncated" });
  if (checkpoint?.status === "invalid" || (checkpoint?.status === "missing" && keyedSeen)) return result({ seq: expectedSeq, reason: "checkpoint" });
  return result();
}
