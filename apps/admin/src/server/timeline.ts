/**
 * The expiry timeline (router `certificates.timeline`): for every scope the caller may see (each
 * company, branch and operator) and each certificate type, the certificates' validity spans in one
 * environment between `from` and `to`, and the gaps where that scope has no valid certificate of its own.
 */
import { listVisibleCertificates, type Principal, type VisibleCertificate, visibleOrganisation } from "@ksef-certs/domain/access";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { KsefEnvironment } from "@ksef-certs/ksef/vocabulary";
import type { Db } from "@ksef-certs/domain/store";

/** Most certificates a timeline reads (pages of 200). */
const MAX_TIMELINE_CERTIFICATES = 4000;
/** Longest timeline range (days). */
const MAX_RANGE_DAYS = 3 * 366;

/** One row of the timeline. */
export interface TimelineRow {
  readonly scope: {
    readonly type: "company" | "branch" | "operator";
    readonly companyId: string;
    readonly branchId: string | null;
    readonly operatorId: string | null;
  };
  readonly label: string;
  readonly certificateType: "Authentication" | "Offline";
  /** ISO dates; `validTo` is the revocation time for a revoked certificate. */
  readonly spans: { readonly id: string; readonly mode: "current" | "queued"; readonly validFrom: string; readonly validTo: string }[];
  readonly gaps: { readonly from: string; readonly to: string }[];
}

/**
 * The parts of [from, to) no span covers.
 * @param spans covered intervals (ms)
 * @param from start (ms)
 * @param to end (ms)
 */
export function uncovered(spans: readonly { from: number; to: number }[], from: number, to: number): { from: number; to: number }[] {
  const sorted = [...spans].filter((s) => s.to > from && s.from < to).sort((a, b) => a.from - b.from);
  const gaps: { from: number; to: number }[] = [];
  let cursor = from;
  for (const s of sorted) {
    if (s.from > cursor) gaps.push({ from: cursor, to: Math.min(s.from, to) });
    cursor = Math.max(cursor, s.to);
    if (cursor >= to) break;
  }
  if (cursor < to) gaps.push({ from: cursor, to });
  return gaps;
}

/**
 * Builds the timeline.
 * @param db the database
 * @param principal the signed-in account
 * @param input company (optional), environment, range and clock
 * @throws {KsefCertsError} VALIDATION for a range that is empty, reversed or longer than three years
 */
export async function buildTimeline(
  db: Db,
  principal: Principal,
  input: { readonly companyId?: string; readonly environment: KsefEnvironment; readonly from: Date; readonly to: Date; readonly at: Date },
): Promise<{ rows: TimelineRow[]; truncated: boolean }> {
  const from = input.from.getTime();
  const to = input.to.getTime();
  if (!(to > from) || to - from > MAX_RANGE_DAYS * 86_400_000) {
    throw new KsefCertsError("VALIDATION", msg("server.timeline.range"), {
      violations: [{ field: "to", rule: "to.range", message: "The end must be after the start, at most three years later." }],
    });
  }
  const certs: VisibleCertificate[] = [];
  let cursor: string | undefined;
  do {
    const page = await listVisibleCertificates(db, principal, {
      environment: input.environment,
      at: input.at,
      limit: 200,
      ...(input.companyId === undefined ? {} : { companyId: input.companyId }),
      ...(cursor === undefined ? {} : { cursor }),
    });
    certs.push(...page.items.filter((c) => c.validTo.getTime() > from && c.validFrom.getTime() < to));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && certs.length < MAX_TIMELINE_CERTIFICATES);
  const org = (await visibleOrganisation(db, principal)).filter((c) => input.companyId === undefined || c.id === input.companyId);
  const rows: TimelineRow[] = [];
  const push = (scope: TimelineRow["scope"], label: string): void => {
    for (const certificateType of ["Authentication", "Offline"] as const) {
      const mine = certs.filter(
        (c) =>
          c.certificateType === certificateType &&
          c.scopeType === scope.type &&
          c.companyId === scope.companyId &&
          (scope.type !== "branch" || c.branchId === scope.branchId) &&
          (scope.type !== "operator" || c.operatorId === scope.operatorId),
      );
      const spans = mine.map((c) => {
        const end = c.revokedAt === null ? c.validTo.getTime() : Math.min(c.validTo.getTime(), c.revokedAt.getTime());
        return { id: c.id, mode: c.mode, validFrom: c.validFrom.toISOString(), validTo: new Date(end).toISOString(), from: c.validFrom.getTime(), to: end };
      });
      rows.push({
        scope,
        label,
        certificateType,
        spans: spans.map(({ id, mode, validFrom, validTo }) => ({ id, mode, validFrom, validTo })),
        gaps: uncovered(spans, from, to).map((g) => ({ from: new Date(g.from).toISOString(), to: new Date(g.to).toISOString() })),
      });
    }
  };
  for (const c of org) {
    push({ type: "company", companyId: c.id, branchId: null, operatorId: null }, `${c.name} (NIP ${c.nip})`);
    for (const b of c.branches) push({ type: "branch", companyId: c.id, branchId: b.id, operatorId: null }, `${c.name} / ${b.code} ${b.name}`);
    for (const o of c.operators) push({ type: "operator", companyId: c.id, branchId: null, operatorId: o.id }, `${c.name} / ${o.name}`);
  }
  return { rows, truncated: certs.length >= MAX_TIMELINE_CERTIFICATES };
}
