/**
 * Moving a certificate to another scope of the same company: the company itself, one of its branches or one of its operators. The target
 * slot's rules (certificates.ts) apply as if the certificate were recorded there: the active limit, one
 * current, a queued one only beside a current one and alone. The old slot's queued successor takes over
 * when the current one leaves. One transaction, with an audit entry `certificate.assign`.
 */
import { and, eq, gt, ne, sql } from "drizzle-orm";
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { appendAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { certificates } from "../store/schema.js";
import { type CertificateRuleOptions, DEFAULT_MAX_ACTIVE, promoteQueued, type ResolvedScope, type Scope, scopeOf, slotCondition } from "./certificates.js";
import { type CertificateTypeName, type ChangeMeta, type Environment, inTransaction, isUuid, notFound } from "./internal.js";

/** What {@link assignCertificate} did. */
export interface AssignResult {
  readonly certificateId: string;
  readonly from: ResolvedScope;
  readonly to: ResolvedScope;
  /** False when the certificate already was in that scope (nothing written). */
  readonly moved: boolean;
}

/**
 * The same advisory lock key as the registry's own slot lock (certificates.ts `lockSlot`), so a move
 * and a concurrent import into the same slot are serialised; audit table lock first, as there.
 */
async function lockSlots(tx: Db, slots: readonly ResolvedScope[], environment: Environment, certificateType: CertificateTypeName): Promise<void> {
  await tx.execute(sql`LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE`);
  const keys = slots
    .map(
      (s) =>
        `ksef-certs:slot:${s.type}:${(s.type === "company" ? s.companyId : s.type === "branch" ? s.branchId : s.operatorId) ?? ""}:${environment}:${certificateType}`,
    )
    .sort();
  for (const key of keys) await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`);
}

function sameScope(a: ResolvedScope, b: ResolvedScope): boolean {
  return a.type === b.type && a.companyId === b.companyId && a.branchId === b.branchId && a.operatorId === b.operatorId;
}

/**
 * Moves a certificate to another company/branch/operator scope of its own company.
 * @param db the database or a transaction
 * @param id certificate id
 * @param scope the target scope
 * @param meta actor and clock
 * @param options `maxActive` of the target slot (default 2)
 * @returns where it was and where it is
 * @throws {KsefCertsError} NOT_FOUND for an unknown certificate or target; VALIDATION when the target belongs to another
 *   company; CONFLICT when the target slot's rules forbid it (limit, a second current, a queued one without a current one or beside another)
 */
export async function assignCertificate(db: Db, id: string, scope: Scope, meta: ChangeMeta, options: CertificateRuleOptions = {}): Promise<AssignResult> {
  const at = meta.at ?? new Date();
  const maxActive = options.maxActive ?? DEFAULT_MAX_ACTIVE;
  if (!isUuid(id)) throw notFound("certificate", String(id));
  return inTransaction(db, async (tx) => {
    const [row] = await tx.select().from(certificates).where(eq(certificates.id, id));
    if (row === undefined) throw notFound("certificate", id);
    const from: ResolvedScope = {
      type: row.scopeType,
      companyId: row.companyId,
      branchId: row.scopeType === "branch" ? row.branchId : null,
      operatorId: row.scopeType === "operator" ? row.operatorId : null,
    };
    const to = await scopeOf(tx, scope);
    if (to.companyId !== row.companyId) {
      throw new KsefCertsError("VALIDATION", msg("assign.otherCompany"), {
        violations: [violation("scope", "scope.sameCompany")],
      });
    }
    if (sameScope(from, to)) return { certificateId: id, from, to, moved: false };
    await lockSlots(tx, [from, to], row.environment, row.certificateType);

    const active = row.status === "active" && row.validTo.getTime() > at.getTime();
    if (active) {
      const others = await tx
        .select({ id: certificates.id, mode: certificates.mode })
        .from(certificates)
        .where(
          and(
            slotCondition(to, row.environment, row.certificateType),
            eq(certificates.status, "active"),
            gt(certificates.validTo, at),
            ne(certificates.id, id),
          ),
        );
      const slot = { scopeType: to.type, environment: row.environment, certificateType: row.certificateType };
      if (others.length >= maxActive) {
        throw new KsefCertsError("CONFLICT", msg("assign.maxActive", { ...slot, count: others.length, max: maxActive }), {
          hint: msg("assign.maxActive.hint"),
          details: { rule: "maxActive", maxActive },
        });
      }
      const current = others.find((o) => o.mode === "current");
      if (row.mode === "current" && current !== undefined) {
        throw new KsefCertsError("CONFLICT", msg("assign.oneCurrent", slot), {
          details: { rule: "oneCurrent", currentId: current.id },
        });
      }
      if (row.mode === "queued" && current === undefined) {
        throw new KsefCertsError("CONFLICT", msg("assign.queuedNeedsCurrent", slot), { details: { rule: "queuedNeedsCurrent" } });
      }
      if (row.mode === "queued" && others.some((o) => o.mode === "queued")) {
        throw new KsefCertsError("CONFLICT", msg("assign.oneQueued", slot), { details: { rule: "oneQueued" } });
      }
    }
    await tx.update(certificates).set({ scopeType: to.type, branchId: to.branchId, operatorId: to.operatorId, updatedAt: at }).where(eq(certificates.id, id));
    await appendAudit(tx, {
      actor: meta.actor,
      action: "certificate.assign",
      entityType: "certificate",
      entityId: id,
      before: { scopeType: from.type, branchId: from.branchId, operatorId: from.operatorId },
      after: { scopeType: to.type, branchId: to.branchId, operatorId: to.operatorId },
      at,
    });
    // The old slot may have lost its current certificate: its queued successor takes over now, not at the next read.
    await promoteQueued(tx, { at }, { companyId: row.companyId, environment: row.environment, certificateType: row.certificateType });
    return { certificateId: id, from, to, moved: true };
  });
}
