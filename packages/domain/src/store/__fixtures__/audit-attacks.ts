/**
 * What someone with write access to the database, but not to the master key, can do to the audit log:
 * used by the audit tests to play the attacker. Everything here goes through plain SQL on the rows.
 */
import { createHash, createHmac } from "node:crypto";
import { asc, eq, sql } from "drizzle-orm";
import { AUDIT_GENESIS_HASH, canonicalJson } from "../audit.js";
import type { Db } from "../db.js";
import { auditLog } from "../schema.js";

/** A stored audit row. */
export type AuditRow = typeof auditLog.$inferSelect;

/**
 * Every row, in seq order.
 * @param db the database
 */
export async function auditRows(db: Db): Promise<AuditRow[]> {
  return db.select().from(auditLog).orderBy(asc(auditLog.seq));
}

/**
 * The body an attacker who read audit.ts would hash: the entry's fields as canonical JSON.
 * @param r the row
 * @param prevHash the link to put in
 */
export function auditBodyOf(r: AuditRow, prevHash: string): string {
  return canonicalJson({
    seq: r.seq,
    at: r.at.toISOString(),
    actor: r.actor,
    action: r.action,
    entityType: r.entityType,
    entityId: r.entityId,
    before: r.before,
    after: r.after,
    prevHash,
  });
}

/**
 * After editing a row: recomputes every hash and link from `fromSeq` on, as plain SHA-256 or as HMAC under
 * a key of the attacker's own; the rows keep their `hash_scheme` unless `scheme` says otherwise.
 * @param db the database
 * @param fromSeq the first row to re-hash
 * @param how the attacker's key (none: SHA-256) and the scheme to label the rows with
 */
export async function rehashAuditFrom(db: Db, fromSeq: number, how: { key?: Uint8Array; scheme?: AuditRow["hashScheme"] } = {}): Promise<void> {
  const all = await auditRows(db);
  let prev = all.find((r) => r.seq === fromSeq - 1)?.hash ?? AUDIT_GENESIS_HASH;
  for (const r of all.filter((x) => x.seq >= fromSeq)) {
    const hash = (how.key === undefined ? createHash("sha256") : createHmac("sha256", how.key)).update(auditBodyOf(r, prev), "utf8").digest("hex");
    await db
      .update(auditLog)
      .set({ prevHash: prev, hash, ...(how.scheme === undefined ? {} : { hashScheme: how.scheme }) })
      .where(eq(auditLog.seq, r.seq));
    prev = hash;
  }
}

/**
 * Puts the rows back exactly as they were (a property test's undo).
 * @param db the database
 * @param saved rows from {@link auditRows}
 */
export async function restoreAuditRows(db: Db, saved: readonly AuditRow[]): Promise<void> {
  await db.execute(sql`DELETE FROM audit_log`);
  for (let i = 0; i < saved.length; i += 500) await db.insert(auditLog).values(saved.slice(i, i + 500));
}
