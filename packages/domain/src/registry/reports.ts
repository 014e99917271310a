/**
 * The two registry reports: renewal warnings (current certificates expiring soon without a
 * queued successor that takes over in time) and coverage gaps (every scope that will have no valid
 * certificate of a type on a given date).
 */
import { and, asc, desc, eq, gt, inArray, type SQL } from "drizzle-orm";
import type { Violation } from "@ksef-certs/ksef/errors";
import type { Db } from "../store/db.js";
import { branches, certificates, companies, operatorBranches, operators } from "../store/schema.js";
import { type CertificateSummary, SLOT_COLUMNS, type ResolvedScope, selectSummaries, summarize } from "./certificates.js";
import { computeCoverage, coverageAtSql, coveredUntilSql, scopeSlotKey, slotKey } from "./coverage.js";
import { assertValid, CERTIFICATE_TYPES, type CertificateTypeName, ENVIRONMENTS, type Environment, isUuid, MS_PER_DAY } from "./internal.js";

/** The renewal window of the F2000 model: warn from 60 days before expiry. */
export const DEFAULT_RENEWAL_WINDOW_DAYS = 60;

/** Input of {@link renewalWarnings}. */
export interface RenewalWarningsInput {
  /** The clock; default now. */
  readonly at?: Date;
  /** Window in days before expiry, 0..3650; default {@link DEFAULT_RENEWAL_WINDOW_DAYS}. */
  readonly withinDays?: number;
  readonly companyId?: string;
  readonly environment?: Environment;
  readonly certificateType?: CertificateTypeName;
}

/** One warning of {@link renewalWarnings}. */
export interface RenewalWarning {
  /** The current certificate that expires within the window (`daysToExpiry` at the clock). */
  readonly certificate: CertificateSummary;
  /** `noSuccessor`: nothing queued; `gapBeforeSuccessor`: the queued one starts after this one ends. */
  readonly reason: "noSuccessor" | "gapBeforeSuccessor";
  /** The queued certificate of the same slot, when there is one. */
  readonly successor: CertificateSummary | null;
}

function commonFilter(input: { companyId?: string; environment?: Environment; certificateType?: CertificateTypeName }): SQL[] {
  const c: SQL[] = [];
  if (input.companyId !== undefined) c.push(eq(certificates.companyId, input.companyId));
  if (input.environment !== undefined) c.push(eq(certificates.environment, input.environment));
  if (input.certificateType !== undefined) c.push(eq(certificates.certificateType, input.certificateType));
  return c;
}

/**
 * Current certificates that expire within `withinDays` of `at` and have no queued successor that starts no later than
 * they end (so the slot would have a gap), soonest expiry first. A queued certificate that has taken over by `at`
 * counts as its slot's current one whether or not the takeover has been persisted: the report is a pure read.
 * @param db the database
 * @param input see {@link RenewalWarningsInput}
 * @returns the warnings
 * @throws {KsefCertsError} VALIDATION for a window out of range
 */
export async function renewalWarnings(db: Db, input: RenewalWarningsInput = {}): Promise<RenewalWarning[]> {
  const at = input.at ?? new Date();
  const withinDays = input.withinDays ?? DEFAULT_RENEWAL_WINDOW_DAYS;
  if (!(Number.isFinite(withinDays) && withinDays >= 0 && withinDays <= 3650)) {
    assertValid(
      [{ field: "withinDays", rule: "withinDays.range", message: "The window must be 0 to 3650 days.", params: { min: 0, max: 3650 } }],
      "The report",
    );
  }
  if (input.companyId !== undefined && !isUuid(input.companyId)) return [];
  const until = new Date(at.getTime() + withinDays * MS_PER_DAY);
  // Every active certificate of the slots concerned that has not ended by `at`: current and queued alike.
  const live = await selectSummaries(db, and(...commonFilter(input), eq(certificates.status, "active"), gt(certificates.validTo, at)));
  const bySlot = new Map<string, typeof live>();
  for (const r of live) bySlot.set(slotKey(r), [...(bySlot.get(slotKey(r)) ?? []), r]);
  const warnings: RenewalWarning[] = [];
  for (const rows of bySlot.values()) {
    const validNow = (r: (typeof live)[number]): boolean => r.validFrom.getTime() <= at.getTime();
    // The slot's current certificate at `at`: the stored current one, else the queued one that has taken over.
    const cur =
      rows.filter((r) => r.mode === "current" && validNow(r)).sort((a, b) => b.validTo.getTime() - a.validTo.getTime())[0] ??
      rows.filter((r) => r.mode === "queued" && validNow(r)).sort((a, b) => a.validFrom.getTime() - b.validFrom.getTime())[0];
    if (cur === undefined || cur.validTo.getTime() > until.getTime()) continue;
    const next = rows.filter((r) => r.mode === "queued" && r.id !== cur.id).sort((a, b) => a.validFrom.getTime() - b.validFrom.getTime())[0];
    if (next !== undefined && next.validFrom.getTime() <= cur.validTo.getTime() && next.validTo.getTime() > cur.validTo.getTime()) continue;
    warnings.push({
      certificate: summarize(cur, at),
      reason: next === undefined ? "noSuccessor" : "gapBeforeSuccessor",
      successor: next === undefined ? null : summarize(next, at),
    });
  }
  return warnings.sort((a, b) => a.certificate.validTo.getTime() - b.certificate.validTo.getTime());
}

/** Input of {@link coverageGaps}. */
export interface CoverageGapsInput {
  /** The date that must be covered. */
  readonly on: Date;
  readonly companyId?: string;
  /** Default: every environment. */
  readonly environment?: Environment;
  /** Default: both types. */
  readonly certificateType?: CertificateTypeName;
  /** The clock for `state`/`daysToExpiry` of the certificates shown; default now. */
  readonly at?: Date;
}

/** One gap of {@link coverageGaps}. */
export interface CoverageGap {
  readonly scope: ResolvedScope;
  /** Names to show: the company's NIP and name, the branch code, the operator name. */
  readonly label: { readonly companyNip: string; readonly companyName: string; readonly branchCode?: string; readonly operatorName?: string };
  readonly environment: Environment;
  readonly certificateType: CertificateTypeName;
  /** The slot's certificate that ends (or was revoked) latest before `on`, if any. */
  readonly endedCertificate: CertificateSummary | null;
  /**
   * What {@link certificateFor} would still find on that date: for an operator, a branch they work at
   * (`branch`) or the company (`company`); for a branch, the company; `null` when nothing.
   */
  readonly fallback: "branch" | "company" | null;
}

/**
 * Every scope (the company, each branch, each operator) that will have no valid certificate of a type
 * on `on` (status active, `validFrom ≤ on < validTo`; queued ones count, they take over by then),
 * per environment and type, with the certificate that ended before it, ordered by company, scope
 * and slot.
 * @param db the database
 * @param input see {@link CoverageGapsInput}
 * @returns the gaps
 * @throws {KsefCertsError} VALIDATION when `on` is not a valid date
 */
export async function coverageGaps(db: Db, input: CoverageGapsInput): Promise<CoverageGap[]> {
  const v: Violation[] = [];
  if (!(input.on instanceof Date) || Number.isNaN(input.on.getTime())) v.push({ field: "on", rule: "on.date", message: "The date must be a valid date." });
  assertValid(v, "The report");
  if (input.companyId !== undefined && !isUuid(input.companyId)) return [];
  const on = input.on;
  const at = input.at ?? new Date();
  const envs = input.environment === undefined ? ENVIRONMENTS : [input.environment];
  const types = input.certificateType === undefined ? CERTIFICATE_TYPES : [input.certificateType];

  const companyWhere = input.companyId === undefined ? undefined : eq(companies.id, input.companyId);
  const companyRows = await db
    .select({ id: companies.id, nip: companies.nip, name: companies.name })
    .from(companies)
    .where(companyWhere)
    .orderBy(asc(companies.nip));
  const branchRows = await db
    .select({ id: branches.id, companyId: branches.companyId, code: branches.code })
    .from(branches)
    .where(input.companyId === undefined ? undefined : eq(branches.companyId, input.companyId))
    .orderBy(asc(branches.code));
  const operatorRows = await db
    .select({ id: operators.id, companyId: operators.companyId, name: operators.name })
    .from(operators)
    .where(input.companyId === undefined ? undefined : eq(operators.companyId, input.companyId))
    .orderBy(asc(operators.name));
  const links = await db
    .select({ operatorId: operatorBranches.operatorId, branchId: operatorBranches.branchId })
    .from(operatorBranches)
    .innerJoin(operators, eq(operators.id, operatorBranches.operatorId))
    .where(input.companyId === undefined ? undefined : eq(operators.companyId, input.companyId));

  const filter = commonFilter(input);
  // Candidates only: computeCoverage decides what covers `on`, by the same rule as coveredUntilSql.
  const covering = await db
    .select({
      id: certificates.id,
      status: certificates.status,
      validFrom: certificates.validFrom,
      validTo: certificates.validTo,
      revokedAt: certificates.revokedAt,
      ...SLOT_COLUMNS,
    })
    .from(certificates)
    .where(and(...filter, coverageAtSql(on)));
  // The latest certificate per slot that had started by `on` but no longer covers it (expired or revoked).
  const endedIds = await db
    .selectDistinctOn(
      [certificates.scopeType, certificates.companyId, certificates.branchId, certificates.operatorId, certificates.environment, certificates.certificateType],
      { id: certificates.id },
    )
    .from(certificates)
    .where(and(...filter, coverageAtSql(on, true)))
    .orderBy(
      certificates.scopeType,
      certificates.companyId,
      certificates.branchId,
      certificates.operatorId,
      certificates.environment,
      certificates.certificateType,
      desc(coveredUntilSql),
    );
  const ended = new Map(
    (endedIds.length === 0
      ? []
      : await selectSummaries(
          db,
          inArray(
            certificates.id,
            endedIds.map((r) => r.id),
          ),
        )
    ).map((r) => [slotKey(r), summarize(r, at)]),
  );

  const companyScope = (companyId: string): ResolvedScope => ({ type: "company", companyId, branchId: null, operatorId: null });
  const branchScope = (b: { id: string; companyId: string }): ResolvedScope => ({ type: "branch", companyId: b.companyId, branchId: b.id, operatorId: null });
  const labelled: { scope: ResolvedScope; label: CoverageGap["label"]; branchIds: readonly string[] }[] = [];
  for (const c of companyRows) {
    const label = { companyNip: c.nip, companyName: c.name };
    labelled.push({ scope: companyScope(c.id), label, branchIds: [] });
    for (const b of branchRows.filter((x) => x.companyId === c.id))
      labelled.push({ scope: branchScope(b), label: { ...label, branchCode: b.code }, branchIds: [] });
    for (const o of operatorRows.filter((x) => x.companyId === c.id)) {
      labelled.push({
        scope: { type: "operator", companyId: c.id, branchId: null, operatorId: o.id },
        label: { ...label, operatorName: o.name },
        branchIds: links.filter((l) => l.operatorId === o.id).map((l) => l.branchId),
      });
    }
  }
  const slots = computeCoverage({
    scopes: labelled.map((l) => l.scope),
    environments: envs,
    certificateTypes: types,
    certificates: covering,
    from: on.getTime(),
    to: on.getTime() + 1,
  });
  const coveredKeys = new Set(slots.filter((s) => s.gaps.length === 0).map((s) => scopeSlotKey(s.scope, s.environment, s.certificateType)));
  const isCovered = (s: ResolvedScope, e: Environment, t: CertificateTypeName): boolean => coveredKeys.has(scopeSlotKey(s, e, t));
  // computeCoverage hands back the very scope objects it was given.
  const byScope = new Map(labelled.map((l) => [l.scope, l]));
  const gaps: CoverageGap[] = [];
  for (const slot of slots) {
    if (slot.gaps.length === 0) continue;
    const { scope, environment: e, certificateType: t } = slot;
    const entry = byScope.get(scope);
    if (entry === undefined) continue;
    const fallback: CoverageGap["fallback"] =
      scope.type === "company"
        ? null
        : scope.type === "operator" && entry.branchIds.some((b) => isCovered(branchScope({ id: b, companyId: scope.companyId }), e, t))
          ? "branch"
          : isCovered(companyScope(scope.companyId), e, t)
            ? "company"
            : null;
    gaps.push({ scope, label: entry.label, environment: e, certificateType: t, endedCertificate: ended.get(scopeSlotKey(scope, e, t)) ?? null, fallback });
  }
  return gaps;
}
