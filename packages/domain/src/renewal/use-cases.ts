/**
 * The renewal use cases as a signed-in account asks for them: the plan (only what the principal may read), approving
 * a renewal that waits for an admin (only who may change its certificate), and the local system's variants for the CLI.
 */
import { and, eq } from "drizzle-orm";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { checkPassword } from "@ksef-certs/ksef/policies";
import { scopeVisibility } from "../access/certificates.js";
import { authorizeEntity, type Principal } from "../access/rules.js";
import { type ChangeMeta, isUuid } from "../registry/internal.js";
import { appendAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { certificates, renewals } from "../store/schema.js";
import type { Vault } from "../vault/index.js";
import { type RenewalPlanFilter, type RenewalPlanItem, renewalPlan } from "./plan.js";
import { renewalPasswordAad } from "./scheduler.js";

/**
 * The renewal plan as `principal` may see it: certificates outside its reach are left out (the `canRead` rule).
 * @param db the database
 * @param principal who asks
 * @param input filters, the clock and whether a master key is configured
 */
export async function renewalPlanAs(
  db: Db,
  principal: Principal,
  input: RenewalPlanFilter & { readonly at: Date; readonly vault: boolean; readonly maxActive?: number },
): Promise<RenewalPlanItem[]> {
  return renewalPlan(db, { ...input, visible: scopeVisibility(principal, certificates) });
}

const utf8 = new TextEncoder();

/**
 * Approves a renewal that waits for an admin (policy `ask_first`, or `ask` for the password): the scheduler takes it
 * at its next pass. With the `ask` password policy the new key's password must be given; it is checked against the
 * ministry's rules and stored only sealed under the master key until the enrollment has it. Audited as
 * `renewal.approve` (without the password).
 * @param db the database
 * @param principal who approves (must be allowed to change the certificate)
 * @param input the renewal id and, when asked for, the password
 * @param meta actor and clock
 * @throws {KsefCertsError} NOT_FOUND for a renewal the principal may not see; FORBIDDEN for one it may only read;
 *   CONFLICT when it does not wait for approval; VALIDATION for a missing or weak password or no master key
 */
export async function approveRenewalAs(
  db: Db,
  principal: Principal,
  input: { readonly renewalId: string; readonly keyPassword?: string | undefined; readonly vault?: Pick<Vault, "seal"> | undefined },
  meta: ChangeMeta,
): Promise<{ readonly renewalId: string; readonly certificateId: string }> {
  if (!isUuid(input.renewalId)) throw new KsefCertsError("NOT_FOUND", msg("renewal.notFound"));
  const [row] = await db.select().from(renewals).where(eq(renewals.id, input.renewalId));
  if (row === undefined) throw new KsefCertsError("NOT_FOUND", msg("renewal.notFound"));
  await authorizeEntity(db, principal, "certificate", row.certificateId, "write");
  if (row.state !== "awaiting_approval") throw new KsefCertsError("CONFLICT", msg("renewal.approve.notWaiting"));
  const asksPassword = row.reasonId === "renewal.waiting.password";
  let sealedPassword: Uint8Array | null = null;
  if (asksPassword || input.keyPassword !== undefined) {
    if (input.keyPassword === undefined) throw new KsefCertsError("VALIDATION", msg("renewal.approve.passwordNeeded"));
    const v = checkPassword(input.keyPassword, "ksef-app");
    if (v.length > 0) throw new KsefCertsError("VALIDATION", msg("renewal.policy.invalid", { reasons: v.map((x) => x.message).join(" ") }), { violations: v });
    if (input.vault === undefined) throw new KsefCertsError("VALIDATION", msg("renewal.blocked.noMasterKey"));
    sealedPassword = input.vault.seal(utf8.encode(input.keyPassword), renewalPasswordAad(row.id));
  }
  const at = meta.at ?? new Date();
  await db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    const [updated] = await tx
      .update(renewals)
      .set({
        state: "due",
        approvedBy: meta.actor,
        approvedAt: at,
        nextAttemptAt: at,
        reasonId: null,
        reasonParams: null,
        ...(sealedPassword === null ? {} : { sealedPassword }),
        updatedAt: at,
      })
      .where(and(eq(renewals.id, row.id), eq(renewals.state, "awaiting_approval")))
      .returning({ id: renewals.id });
    if (updated === undefined) throw new KsefCertsError("CONFLICT", msg("renewal.approve.notWaiting"));
    await appendAudit(tx, {
      actor: meta.actor,
      action: "renewal.approve",
      entityType: "renewal",
      entityId: row.id,
      before: { state: row.state },
      after: { state: "due", passwordGiven: sealedPassword !== null },
      at,
    });
  });
  return { renewalId: row.id, certificateId: row.certificateId };
}
