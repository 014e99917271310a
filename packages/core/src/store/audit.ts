/**
 * The append-only audit log with a hash chain (issue "registry", item 6).
 *
 * Each entry's `hash` is SHA-256 over the canonical JSON (keys sorted, no whitespace) of
 * `{seq, at, actor, action, entityType, entityId, before, after, prevHash}`; `prevHash` is the previous
 * entry's hash (64 zeros for the first). Editing, deleting or reordering any entry breaks the chain
 * from that entry on, which {@link verifyAuditLog} reports. Appends take a table lock inside the
 * caller's transaction, so concurrent writers (two processes on one PostgreSQL) cannot fork the chain.
 */
import { createHash } from "node:crypto";
import { asc, desc, sql } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import { KsefCertsError } from "../errors.js";
import type { Db } from "./db.js";
import { auditLog } from "./schema.js";

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
}

/** Result of {@link verifyAuditLog}. */
export interface AuditVerification {
  readonly ok: boolean;
  /** Entries checked. */
  readonly entries: number;
  /** The first entry that does not verify, and why. */
  readonly firstBad?: { readonly seq: number; readonly reason: "hash" | "chain" | "sequence" };
  /** Hash of the last entry (what an external witness may record). */
  readonly head: string;
}

/**
 * JSON with sorted keys and no whitespace; `undefined` members dropped, dates as ISO strings.
 * @param value any JSON-like value
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value instanceof Uint8Array) throw new KsefCertsError("INTERNAL", "Binary data must not be written to the audit log.");
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
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

function entryHash(e: Omit<AuditEntry, "hash">): string {
  const body = canonicalJson({
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
  return createHash("sha256").update(body, "utf8").digest("hex");
}

/**
 * Appends one entry. Call it inside the transaction that makes the change, so the change and its entry
 * commit together (or not at all).
 * @param db the transaction of the change (given the database itself, the entry gets a transaction of its own)
 * @param input who, what, which entity, before/after (secrets dropped)
 * @returns the stored entry
 */
export async function appendAudit(db: Db, input: AuditEntryInput): Promise<AuditEntry> {
  if (!isTransaction(db)) return db.transaction((tx) => appendInTransaction(tx, input));
  return appendInTransaction(db, input);
}

/** Not a type guard on purpose: narrowing would lose the schema generic of {@link Db}. */
function isTransaction(db: Db): boolean {
  return db instanceof PgTransaction;
}

/** Locks the log for the rest of the transaction and returns its head (last seq and hash; 0 and genesis when empty). */
async function lockHead(db: Db): Promise<{ seq: number; hash: string }> {
  // One writer at a time across connections and processes: the chain has exactly one head.
  await db.execute(sql`LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE`);
  const [last] = await db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
  return { seq: last?.seq ?? 0, hash: last?.hash ?? AUDIT_GENESIS_HASH };
}

/** The entry following `prev` in the chain, hash included. */
function chainEntry(input: AuditEntryInput, prev: { seq: number; hash: string }, now: Date): AuditEntry {
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
  return { ...draft, hash: entryHash(draft) };
}

async function appendInTransaction(db: Db, input: AuditEntryInput): Promise<AuditEntry> {
  const entry = chainEntry(input, await lockHead(db), new Date());
  await db.insert(auditLog).values(entry);
  return entry;
}

/** Rows per multi-row insert of {@link appendAuditBatch} (10 columns each: well under PostgreSQL's 65 535 parameters). */
const AUDIT_BATCH_ROWS = 1000;

/**
 * Appends several entries in order, as many {@link appendAudit} calls would, with one lock, one head
 * read and multi-row inserts: the chain (seq, prevHash, hash) is exactly the one {@link verifyAuditLog}
 * expects. Call it inside the transaction that makes the changes.
 * @param db the transaction of the changes (given the database itself, the entries get a transaction of their own)
 * @param inputs the entries, in the order they happened (secrets dropped as in {@link appendAudit})
 * @returns the stored entries, in order
 */
export async function appendAuditBatch(db: Db, inputs: readonly AuditEntryInput[]): Promise<AuditEntry[]> {
  if (inputs.length === 0) return [];
  if (!isTransaction(db)) return db.transaction((tx) => appendBatchInTransaction(tx, inputs));
  return appendBatchInTransaction(db, inputs);
}

async function appendBatchInTransaction(db: Db, inputs: readonly AuditEntryInput[]): Promise<AuditEntry[]> {
  let prev = await lockHead(db);
  const now = new Date();
  const entries = inputs.map((input) => (prev = chainEntry(input, prev, now)));
  for (let i = 0; i < entries.length; i += AUDIT_BATCH_ROWS) await db.insert(auditLog).values(entries.slice(i, i + AUDIT_BATCH_ROWS));
  return entries;
}

/**
 * Reads the whole log in order and checks every hash and link.
 * @param db the database
 * @param onProgress called every 1 000 entries with the count so far (for long logs)
 * @returns whether the chain is intact, how many entries, and the first bad one
 */
export async function verifyAuditLog(db: Db, onProgress?: (checked: number) => void): Promise<AuditVerification> {
  let prevHash = AUDIT_GENESIS_HASH;
  let expectedSeq = 1;
  let entries = 0;
  const pageSize = 1000;
  for (;;) {
    const rows = await db
      .select()
      .from(auditLog)
      .where(sql`${auditLog.seq} >= ${expectedSeq}`)
      .orderBy(asc(auditLog.seq))
      .limit(pageSize);
    for (const row of rows) {
      if (row.seq !== expectedSeq) return { ok: false, entries, firstBad: { seq: row.seq, reason: "sequence" }, head: prevHash };
      if (row.prevHash !== prevHash) return { ok: false, entries, firstBad: { seq: row.seq, reason: "chain" }, head: prevHash };
      const recomputed = entryHash({ ...row, at: row.at, entityId: row.entityId, before: row.before, after: row.after });
      if (recomputed !== row.hash) return { ok: false, entries, firstBad: { seq: row.seq, reason: "hash" }, head: prevHash };
      prevHash = row.hash;
      expectedSeq++;
      entries++;
    }
    onProgress?.(entries);
    if (rows.length < pageSize) return { ok: true, entries, head: prevHash };
  }
}
