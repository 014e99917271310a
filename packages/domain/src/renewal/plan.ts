/**
 * The renewal plan: for every current certificate, when its renewal falls due and by which route — automatic (the
 * certificate, or for an Offline one the holder's Authentication certificate, signs the KSeF login), a person's
 * signature at a workstation, an admin's approval first, or blocked and why — and what has happened so far.
 *
 * The same decision ({@link decideRenewal}) is made by the plan (for reading ahead) and by the scheduler (when it
 * acts), so the plan says what the scheduler will do.
 */
import { and, asc, eq, gt, inArray, lte, max, type SQL, sql } from "drizzle-orm";
import { DEFAULT_MAX_ACTIVE, type ResolvedScope } from "../registry/certificates.js";
import { slotKey } from "../registry/coverage.js";
import { type CertificateTypeName, type Environment, MS_PER_DAY } from "../registry/internal.js";
import type { Db } from "../store/db.js";
import { branches, certificates, companies, operators, renewalPolicies, renewals, workstations } from "../store/schema.js";
import { DEFAULT_RENEWAL_POLICY, type EffectiveRenewalPolicy, loadPolicyBook } from "./policy.js";

/** How a renewal will go (or went). */
export type RenewalRoute = "automatic" | "person" | "approval" | "blocked" | "renewed";

/** Why a renewal cannot go on by itself: a message id (`renewal.blocked.*`, `renewal.waiting.*`) and its parameters. */
export interface RenewalReason {
  readonly id: string;
  readonly params: Readonly<Record<string, string | number>>;
}

/** A certificate as the plan needs it (no DER, no key). */
export interface PlanCertificate {
  readonly id: string;
  readonly name: string;
  readonly scopeType: ResolvedScope["type"];
  readonly companyId: string;
  readonly branchId: string | null;
  readonly operatorId: string | null;
  readonly environment: Environment;
  readonly certificateType: CertificateTypeName;
  readonly mode: "current" | "queued";
  readonly status: "active" | "revoked";
  readonly validFrom: Date;
  readonly validTo: Date;
  /** Whether its key's password is sealed under the master key (it can sign unattended). */
  readonly passwordSealed: boolean;
}

/** The decision for one certificate. */
export interface RenewalDecision {
  readonly route: RenewalRoute;
  /** When the renewal falls due (ISO in views): expiry minus the policy's lead (the person lead when a person signs). */
  readonly dueAt: Date;
  /** `certificate`: signed by {@link signerCertificateId}; `person`: through the hand-off at {@link workstationId}. */
  readonly signing: "certificate" | "person" | null;
  readonly signerCertificateId: string | null;
  readonly workstationId: string | null;
  /** The queued successor that already covers the slot after this one's expiry (route `renewed`). */
  readonly successorId: string | null;
  readonly reason: RenewalReason | null;
}

/** What {@link decideRenewal} needs besides the certificate. */
export interface DecisionContext {
  readonly policy: EffectiveRenewalPolicy;
  /** Every active certificate of the same slot (scope, environment, type), this one included. */
  readonly slot: readonly PlanCertificate[];
  /** Every active Authentication certificate of the same scope and environment (an Offline one's possible signers). */
  readonly holderAuthentication: readonly PlanCertificate[];
  /** The clock. */
  readonly at: Date;
  /** Whether a master key is configured (without it nothing can be signed or sealed unattended). */
  readonly vault: boolean;
  /** Whether an admin approved this renewal. */
  readonly approved: boolean;
  /** Most active certificates per slot (the registry's rule, default 2). */
  readonly maxActive?: number;
}

const blocked = (id: string, params: Record<string, string | number> = {}): RenewalReason => ({ id, params });

/**
 * Decides how `cert`'s renewal goes under `ctx.policy`, at `ctx.at`.
 *
 * In order: a queued successor that starts by the expiry and outlives it → `renewed`; no master key → blocked; the
 * password policy `reuse` without a sealed password → blocked; the signer: the certificate itself (Authentication)
 * or the holder's current Authentication certificate (Offline), valid now and past the due date and with a sealed
 * password, else a person at the policy's workstation (none set → blocked); the slot already holding the most
 * active certificates → blocked; approval asked first (or the password asked of an admin) and not given → `approval`.
 * @param cert the current certificate
 * @param ctx policy, slot, possible signers, clock, vault, approval
 */
export function decideRenewal(cert: PlanCertificate, ctx: DecisionContext): RenewalDecision {
  const p = ctx.policy.values;
  const at = ctx.at.getTime();
  const expiry = cert.validTo.getTime();
  const successor = ctx.slot.find(
    (c) => c.id !== cert.id && c.mode === "queued" && c.status === "active" && c.validFrom.getTime() <= expiry && c.validTo.getTime() > expiry,
  );
  const leadDays = (signing: "certificate" | "person"): number => (signing === "person" ? Math.max(p.renewBeforeDays, p.personLeadDays) : p.renewBeforeDays);
  const base = { signerCertificateId: null, workstationId: null, successorId: null } as const;
  if (successor !== undefined) {
    return { ...base, route: "renewed", dueAt: new Date(expiry - p.renewBeforeDays * MS_PER_DAY), signing: null, successorId: successor.id, reason: null };
  }
  let signing: "certificate" | "person" = "person";
  let signer: PlanCertificate | undefined;
  if (p.signing === "certificate") {
    // The signer must still be valid on the day the renewal starts and after it: a login signed with an expired
    // certificate is refused (ksef-docs `uwierzytelnianie.md`).
    const due = expiry - p.renewBeforeDays * MS_PER_DAY;
    const usable = (c: PlanCertificate): boolean =>
      c.status === "active" && c.passwordSealed && c.validFrom.getTime() <= Math.max(at, due) && c.validTo.getTime() > Math.max(at, due);
    signer =
      cert.certificateType === "Authentication"
        ? usable(cert)
          ? cert
          : undefined
        : ctx.holderAuthentication.filter((c) => c.mode === "current" && usable(c)).sort((a, b) => b.validTo.getTime() - a.validTo.getTime())[0];
    if (signer !== undefined) signing = "certificate";
  }
  const dueAt = new Date(expiry - leadDays(signing) * MS_PER_DAY);
  const decided = { signing, signerCertificateId: signer?.id ?? null, workstationId: signing === "person" ? p.workstationId : null, successorId: null, dueAt };
  if (!ctx.vault) return { ...decided, route: "blocked", reason: blocked("renewal.blocked.noMasterKey") };
  if (p.password === "reuse" && !cert.passwordSealed) return { ...decided, route: "blocked", reason: blocked("renewal.blocked.passwordNotSealed") };
  if (signing === "person" && p.workstationId === null) {
    return {
      ...decided,
      route: "blocked",
      reason: blocked(cert.certificateType === "Offline" ? "renewal.blocked.noSignerOffline" : "renewal.blocked.noWorkstation"),
    };
  }
  const max = ctx.maxActive ?? DEFAULT_MAX_ACTIVE;
  const active = ctx.slot.filter((c) => c.status === "active" && c.validTo.getTime() > at).length;
  if (active >= max) return { ...decided, route: "blocked", reason: blocked("renewal.blocked.slotFull", { max }) };
  if ((p.approval === "ask_first" || p.password === "ask") && !ctx.approved) {
    return { ...decided, route: "approval", reason: blocked(p.password === "ask" ? "renewal.waiting.password" : "renewal.waiting.approval") };
  }
  return { ...decided, route: signing === "certificate" ? "automatic" : "person", reason: null };
}

/** Filters of the plan. */
export interface RenewalPlanFilter {
  readonly companyId?: string;
  readonly branchId?: string;
  readonly environment?: Environment;
  /** Only renewals due by this date. */
  readonly dueBy?: Date;
}

/** The renewal's progress, when one has started. */
export interface RenewalProgress {
  readonly id: string;
  readonly state: (typeof renewals.$inferSelect)["state"];
  readonly attempts: number;
  readonly enrollmentId: string | null;
  readonly successorId: string | null;
  readonly signatureRequestedAt: Date | null;
  readonly nextAttemptAt: Date;
  readonly reason: RenewalReason | null;
}

/** One line of the plan. */
export interface RenewalPlanItem extends RenewalDecision {
  readonly certificate: PlanCertificate;
  readonly companyName: string;
  readonly companyNip: string;
  readonly branchName: string | null;
  readonly operatorName: string | null;
  readonly workstationName: string | null;
  readonly signerName: string | null;
  readonly policy: EffectiveRenewalPolicy;
  readonly renewal: RenewalProgress | null;
}

/** The columns of a {@link PlanCertificate}. */
export const PLAN_CERTIFICATE_COLUMNS = {
  id: certificates.id,
  name: certificates.name,
  scopeType: certificates.scopeType,
  companyId: certificates.companyId,
  branchId: certificates.branchId,
  operatorId: certificates.operatorId,
  environment: certificates.environment,
  certificateType: certificates.certificateType,
  mode: certificates.mode,
  status: certificates.status,
  validFrom: certificates.validFrom,
  validTo: certificates.validTo,
  passwordSealed: sql<boolean>`${certificates.sealedPassword} IS NOT NULL`.mapWith(Boolean),
};

/** The active certificates of some companies, grouped for decisions. */
export interface SlotBook {
  /** The active certificates of `cert`'s slot and its holder's Authentication certificates. */
  around(cert: PlanCertificate): { slot: PlanCertificate[]; holderAuthentication: PlanCertificate[] };
}

/**
 * Loads the active certificates of `companyIds` for {@link SlotBook.around}.
 * @param db the database
 * @param companyIds the companies
 * @param at the clock (expired certificates are left out)
 */
export async function loadSlotBook(db: Db, companyIds: readonly string[], at: Date): Promise<SlotBook> {
  const ids = [...new Set(companyIds)];
  const rows =
    ids.length === 0
      ? []
      : await db
          .select(PLAN_CERTIFICATE_COLUMNS)
          .from(certificates)
          .where(and(inArray(certificates.companyId, ids), eq(certificates.status, "active"), gt(certificates.validTo, at)));
  const bySlot = new Map<string, PlanCertificate[]>();
  for (const r of rows) {
    const k = slotKey(r);
    bySlot.set(k, [...(bySlot.get(k) ?? []), r]);
  }
  return {
    around(cert) {
      return {
        slot: bySlot.get(slotKey(cert)) ?? [],
        holderAuthentication: bySlot.get(slotKey({ ...cert, certificateType: "Authentication" })) ?? [],
      };
    },
  };
}

function progressOf(r: typeof renewals.$inferSelect | undefined): RenewalProgress | null {
  if (r === undefined) return null;
  return {
    id: r.id,
    state: r.state,
    attempts: r.attempts,
    enrollmentId: r.enrollmentId,
    successorId: r.successorId,
    signatureRequestedAt: r.signatureRequestedAt,
    nextAttemptAt: r.nextAttemptAt,
    reason: r.reasonId === null ? null : { id: r.reasonId, params: r.reasonParams ?? {} },
  };
}

/**
 * The renewal plan at `at`: every current, active, unexpired certificate (optionally of one company, branch or
 * environment, or due by a date), soonest due first, with its decision and progress.
 * @param db the database
 * @param input filters, the clock, whether a vault is configured, and an optional visibility condition on
 *   certificates (the caller's access rule)
 */
export async function renewalPlan(
  db: Db,
  input: RenewalPlanFilter & { readonly at: Date; readonly vault: boolean; readonly visible?: SQL | undefined; readonly maxActive?: number },
): Promise<RenewalPlanItem[]> {
  const at = input.at;
  const conditions: SQL[] = [eq(certificates.mode, "current"), eq(certificates.status, "active"), gt(certificates.validTo, at)];
  if (input.companyId !== undefined) conditions.push(eq(certificates.companyId, input.companyId));
  if (input.branchId !== undefined) conditions.push(eq(certificates.branchId, input.branchId));
  if (input.environment !== undefined) conditions.push(eq(certificates.environment, input.environment));
  // Only certificates within the longest lead any policy sets can be due by then.
  if (input.dueBy !== undefined) conditions.push(lte(certificates.validTo, new Date(input.dueBy.getTime() + (await longestLeadDays(db)) * MS_PER_DAY)));
  if (input.visible !== undefined) conditions.push(input.visible);
  const current = (await db
    .select(PLAN_CERTIFICATE_COLUMNS)
    .from(certificates)
    .where(and(...conditions))
    .orderBy(asc(certificates.validTo), asc(certificates.id))) as PlanCertificate[];
  if (current.length === 0) return [];
  const companyIds = [...new Set(current.map((c) => c.companyId))];
  const [book, slots, names, progress] = await Promise.all([
    loadPolicyBook(db, companyIds),
    loadSlotBook(db, companyIds, at),
    loadNames(db, companyIds),
    db.select().from(renewals).where(inArray(renewals.companyId, companyIds)),
  ]);
  const byCertificate = new Map(progress.map((r) => [r.certificateId, r]));
  const items = current.map((cert) => {
    const policy = book.policyOf(cert);
    const r = byCertificate.get(cert.id);
    const decision = decideRenewal(cert, {
      policy,
      ...slots.around(cert),
      at,
      vault: input.vault,
      approved: r?.approvedAt != null,
      ...(input.maxActive === undefined ? {} : { maxActive: input.maxActive }),
    });
    return {
      ...decision,
      certificate: cert,
      companyName: names.companies.get(cert.companyId)?.name ?? "",
      companyNip: names.companies.get(cert.companyId)?.nip ?? "",
      branchName: cert.branchId === null ? null : (names.branches.get(cert.branchId) ?? null),
      operatorName: cert.operatorId === null ? null : (names.operators.get(cert.operatorId) ?? null),
      workstationName: decision.workstationId === null ? null : (names.workstations.get(decision.workstationId) ?? null),
      signerName:
        decision.signerCertificateId === null
          ? null
          : decision.signerCertificateId === cert.id
            ? cert.name
            : (names.certificateNames.get(decision.signerCertificateId) ?? null),
      policy,
      renewal: progressOf(r),
    };
  });
  const due = input.dueBy?.getTime();
  return items
    .filter((i) => due === undefined || i.dueAt.getTime() <= due)
    .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.certificate.id.localeCompare(b.certificate.id));
}

/**
 * The longest lead (days before expiry) any policy, or the defaults, can give a renewal: no certificate expiring
 * later than that after a date can be due by it.
 * @param db the database
 */
export async function longestLeadDays(db: Db): Promise<number> {
  const [longest] = await db.select({ before: max(renewalPolicies.renewBeforeDays), person: max(renewalPolicies.personLeadDays) }).from(renewalPolicies);
  return Math.max(DEFAULT_RENEWAL_POLICY.renewBeforeDays, DEFAULT_RENEWAL_POLICY.personLeadDays, longest?.before ?? 0, longest?.person ?? 0);
}

async function loadNames(db: Db, companyIds: readonly string[]) {
  const [cs, bs, os, ws, certs] = await Promise.all([
    db
      .select({ id: companies.id, name: companies.name, nip: companies.nip })
      .from(companies)
      .where(inArray(companies.id, [...companyIds])),
    db
      .select({ id: branches.id, name: branches.name })
      .from(branches)
      .where(inArray(branches.companyId, [...companyIds])),
    db
      .select({ id: operators.id, name: operators.name })
      .from(operators)
      .where(inArray(operators.companyId, [...companyIds])),
    db
      .select({ id: workstations.id, name: workstations.name })
      .from(workstations)
      .innerJoin(branches, eq(branches.id, workstations.branchId))
      .where(inArray(branches.companyId, [...companyIds])),
    db
      .select({ id: certificates.id, name: certificates.name })
      .from(certificates)
      .where(and(inArray(certificates.companyId, [...companyIds]), eq(certificates.certificateType, "Authentication"), eq(certificates.status, "active"))),
  ]);
  return {
    companies: new Map(cs.map((c) => [c.id, c])),
    branches: new Map(bs.map((b) => [b.id, b.name])),
    operators: new Map(os.map((o) => [o.id, o.name])),
    workstations: new Map(ws.map((w) => [w.id, w.name])),
    certificateNames: new Map(certs.map((c) => [c.id, c.name])),
  };
}
