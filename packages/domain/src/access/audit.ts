/**
 * Reading the audit log page by page, newest first: for one entity, for everything of one company
 * (the company, its branches, operators, workstations, certificates and enrollments), or all of it.
 * {@link listAuditEntriesAs} decides who may ask for what; {@link listAuditEntries} reads for callers already authorised.
 */
import { and, desc, eq, inArray, lt, type SQL, sql } from "drizzle-orm";
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { verifyAuditLog, type AuditEntry, type AuditVerification, type VerifyAuditLogOptions } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { msg } from "@ksef-certs/ksef/messages";
import { authorizeEntity, type EntityKind, hasRole, type Principal } from "./rules.js";
import { auditLog, branches, certificates, companies, enrollments, operators, workstations } from "../store/schema.js";

/** Filter of {@link listAuditEntries}. */
export interface AuditListFilter {
  /** Only entries about this entity. */
  readonly entityId?: string;
  /** Only entries about this company and everything it owns. */
  readonly companyId?: string;
  /** Entries with `seq` below this (the previous page's `nextCursor`). */
  readonly cursor?: number;
  /** 1..500; default 100. */
  readonly limit?: number;
}

/**
 * The entity type of the newest audit entry about an id (to find what kind of thing it is), or undefined.
 * @param db the database
 * @param entityId an entity id
 */
export async function auditEntityType(db: Db, entityId: string): Promise<string | undefined> {
  const [row] = await db.select({ entityType: auditLog.entityType }).from(auditLog).where(eq(auditLog.entityId, entityId)).orderBy(desc(auditLog.seq)).limit(1);
  return row?.entityType;
}

/**
 * One page of audit entries, newest first.
 * @param db the database
 * @param filter entity, company, cursor, limit
 * @returns entries and the cursor of the next page (null at the end)
 * @throws {KsefCertsError} VALIDATION for a bad limit or cursor
 */
export async function listAuditEntries(db: Db, filter: AuditListFilter = {}): Promise<{ entries: AuditEntry[]; nextCursor: number | null }> {
  const limit = filter.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500) {
    throw new KsefCertsError("VALIDATION", msg("access.audit.limit", { min: 1, max: 500 }), {
      violations: [violation("limit", "limit.range", { min: 1, max: 500 })],
    });
  }
  if (filter.cursor !== undefined && !(Number.isSafeInteger(filter.cursor) && filter.cursor > 0)) {
    throw new KsefCertsError("VALIDATION", msg("access.audit.cursor"), { violations: [violation("cursor", "cursor.invalid")] });
  }
  const c: SQL[] = [];
  if (filter.entityId !== undefined) c.push(eq(auditLog.entityId, filter.entityId));
  if (filter.companyId !== undefined) {
    const id = filter.companyId;
    const owned = sql`(
      SELECT ${companies.id}::text FROM ${companies} WHERE ${companies.id} = ${id}
      UNION ALL SELECT ${branches.id}::text FROM ${branches} WHERE ${branches.companyId} = ${id}
      UNION ALL SELECT ${operators.id}::text FROM ${operators} WHERE ${operators.companyId} = ${id}
      UNION ALL SELECT ${workstations.id}::text FROM ${workstations} JOIN ${branches} ON ${branches.id} = ${workstations.branchId} WHERE ${branches.companyId} = ${id}
      UNION ALL SELECT ${certificates.id}::text FROM ${certificates} WHERE ${certificates.companyId} = ${id}
      UNION ALL SELECT ${enrollments.id}::text FROM ${enrollments} WHERE ${enrollments.companyId} = ${id}
    )`;
    c.push(inArray(auditLog.entityId, owned));
  }
  if (filter.cursor !== undefined) c.push(lt(auditLog.seq, filter.cursor));
  const rows = await db
    .select()
    .from(auditLog)
    .where(c.length === 0 ? undefined : and(...c))
    .orderBy(desc(auditLog.seq))
    .limit(limit + 1);
  const entries = rows.slice(0, limit);
  const last = entries[entries.length - 1];
  return { entries, nextCursor: rows.length > limit && last !== undefined ? last.seq : null };
}

/**
 * Verifies the whole audit log (MACs, links, its end against the head checkpoint) on behalf of `principal`: only
 * super-admins, auditors and company admins may, since the answer speaks of every company's entries.
 * @param db the database
 * @param principal who asks
 * @param options master key and head checkpoint file, as `verifyAuditLog` of `./store`
 * @returns what `verifyAuditLog` returns
 * @throws {KsefCertsError} FORBIDDEN for any other role, before the log is read; the errors of `verifyAuditLog`
 */
export async function verifyAuditLogAs(db: Db, principal: Principal, options: VerifyAuditLogOptions = {}): Promise<AuditVerification> {
  if (!hasRole(principal, "super_admin", "auditor", "company_admin")) throw new KsefCertsError("FORBIDDEN", msg("access.audit.verifyForbidden"));
  return verifyAuditLog(db, options);
}

/** The entity kinds whose audit entries {@link listAuditEntriesAs} answers by entity for a scoped role. */
const ENTITY_KINDS: readonly string[] = ["company", "branch", "operator", "workstation", "certificate", "enrollment"];

/**
 * One page of audit entries on behalf of `principal`: super-admins and global auditors read all of it; a company's
 * admins and auditors that company's whole log; any other role only the entries of an entity it may read.
 * @param db the database
 * @param principal who asks
 * @param filter entity, company, cursor, limit, as {@link listAuditEntries}
 * @returns what {@link listAuditEntries} returns
 * @throws {KsefCertsError} NOT_FOUND for an entity the principal may not read (as for one that does not exist);
 *   FORBIDDEN for a company's whole log without a company-wide role there, or for no filter without a global role;
 *   the errors of {@link listAuditEntries}
 */
export async function listAuditEntriesAs(
  db: Db,
  principal: Principal,
  filter: AuditListFilter = {},
): Promise<{ entries: AuditEntry[]; nextCursor: number | null }> {
  const everything = principal.roles.some((r) => r.role === "super_admin" || (r.role === "auditor" && r.companyId === null));
  if (filter.entityId !== undefined && !everything) {
    const kind = await auditEntityType(db, filter.entityId);
    if (kind === undefined || !ENTITY_KINDS.includes(kind))
      throw new KsefCertsError("NOT_FOUND", msg("access.audit.noEntity", { id: JSON.stringify(filter.entityId) }));
    await authorizeEntity(db, principal, kind as EntityKind, filter.entityId, "read");
  }
  if (filter.companyId !== undefined && !everything) {
    if (!principal.roles.some((r) => (r.role === "company_admin" || r.role === "auditor") && r.companyId === filter.companyId)) {
      // A company it may not read at all answers NOT_FOUND, as a made-up id would.
      await authorizeEntity(db, principal, "company", filter.companyId, "read");
      throw new KsefCertsError("FORBIDDEN", msg("access.audit.companyLogForbidden"));
    }
  }
  if (filter.entityId === undefined && filter.companyId === undefined && !everything) {
    throw new KsefCertsError("FORBIDDEN", msg("access.audit.chooseScope"));
  }
  return listAuditEntries(db, filter);
}

/** The stored fields of one audit entry that say what it was about (no before/after states, no hashes). */
export interface AuditEntryHeader {
  readonly seq: number;
  readonly at: Date;
  readonly actor: string;
  readonly action: string;
  readonly entityType: string;
  readonly entityId: string | null;
}

/**
 * One audit entry's header by `seq`, on behalf of `principal`, to show where {@link verifyAuditLogAs} found the log
 * broken; the same roles as verifying may ask.
 * @param db the database
 * @param principal who asks
 * @param seq the entry's sequence number
 * @returns the header, or undefined when no entry has this seq (or seq is not a safe integer)
 * @throws {KsefCertsError} FORBIDDEN for a role that may not verify the log
 */
export async function getAuditEntryHeaderAs(db: Db, principal: Principal, seq: number): Promise<AuditEntryHeader | undefined> {
  if (!hasRole(principal, "super_admin", "auditor", "company_admin")) throw new KsefCertsError("FORBIDDEN", msg("access.audit.verifyForbidden"));
  if (!Number.isSafeInteger(seq)) return undefined;
  const [row] = await db
    .select({
      seq: auditLog.seq,
      at: auditLog.at,
      actor: auditLog.actor,
      action: auditLog.action,
      entityType: auditLog.entityType,
      entityId: auditLog.entityId,
    })
    .from(auditLog)
    .where(eq(auditLog.seq, seq));
  return row;
}
