/**
 * The expiry timeline as a principal may see it: for every scope it may read (each company, branch and operator)
 * and each certificate type, the certificates' covered spans in one environment over a range and the gaps where
 * that scope has no certificate of its own. Coverage means what it means for the gap report (registry/coverage.ts).
 */
import { KsefCertsError, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { CERTIFICATE_TYPES } from "@ksef-certs/ksef/vocabulary";
import type { ResolvedScope } from "../registry/certificates.js";
import { computeCoverage } from "../registry/coverage.js";
import type { CertificateTypeName, Environment } from "../registry/internal.js";
import type { Db } from "../store/db.js";
import { listVisibleCertificates, type VisibleCertificate } from "./certificates.js";
import { visibleOrganisation } from "./organisation.js";
import { authorizeEntity, type Principal } from "./rules.js";

/** Most certificates a timeline reads (pages of 200); beyond it the answer says `truncated`. */
export const MAX_TIMELINE_CERTIFICATES = 4000;
/** Longest timeline range, days. */
export const MAX_TIMELINE_DAYS = 3 * 366;
const MS_PER_DAY = 86_400_000;

/** Input of {@link certificateTimelineAs}. */
export interface CertificateTimelineInput {
  /** One company only; otherwise every company the principal may read. */
  readonly companyId?: string;
  readonly environment: Environment;
  /** The range [from, to): `to` after `from`, at most {@link MAX_TIMELINE_DAYS} later. */
  readonly from: Date;
  readonly to: Date;
  /** The clock for the certificates' states. */
  readonly at: Date;
}

/** Names to show for a scope: the company's NIP and name, a branch's code and name, an operator's name. */
export interface TimelineLabel {
  readonly companyNip: string;
  readonly companyName: string;
  readonly branchCode?: string;
  readonly branchName?: string;
  readonly operatorName?: string;
}

/** One row of {@link certificateTimelineAs}: one scope and certificate type. */
export interface TimelineRow {
  readonly scope: ResolvedScope;
  readonly label: TimelineLabel;
  readonly certificateType: CertificateTypeName;
  /** The covered spans, by start; `validTo` is the revocation time of a certificate revoked before it expired. */
  readonly spans: readonly { readonly id: string; readonly mode: "current" | "queued"; readonly validFrom: Date; readonly validTo: Date }[];
  /** The parts of the range without a certificate of the scope's own, in order. */
  readonly gaps: readonly { readonly from: Date; readonly to: Date }[];
}

/**
 * The timeline of what `principal` may read: companies by name, each with its company row, branches by code and
 * operators by name, each twice (Authentication, Offline).
 * @param db the database
 * @param principal who asks
 * @param input see {@link CertificateTimelineInput}
 * @returns the rows, and `truncated` when more than {@link MAX_TIMELINE_CERTIFICATES} certificates fall in the range
 * @throws {KsefCertsError} VALIDATION for a range that is empty, reversed or longer than three years; NOT_FOUND for a
 *   company the principal may not read (as for one that does not exist)
 */
export async function certificateTimelineAs(
  db: Db,
  principal: Principal,
  input: CertificateTimelineInput,
): Promise<{ rows: TimelineRow[]; truncated: boolean }> {
  const from = input.from.getTime();
  const to = input.to.getTime();
  if (!(to > from) || to - from > MAX_TIMELINE_DAYS * MS_PER_DAY) {
    throw new KsefCertsError("VALIDATION", msg("registry.timeline.range"), { violations: [violation("to", "to.range")] });
  }
  if (input.companyId !== undefined) await authorizeEntity(db, principal, "company", input.companyId, "read");
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
  const labels = new Map<ResolvedScope, TimelineLabel>();
  for (const c of org) {
    const company = { companyNip: c.nip, companyName: c.name };
    labels.set({ type: "company", companyId: c.id, branchId: null, operatorId: null }, company);
    for (const b of c.branches)
      labels.set({ type: "branch", companyId: c.id, branchId: b.id, operatorId: null }, { ...company, branchCode: b.code, branchName: b.name });
    for (const o of c.operators) labels.set({ type: "operator", companyId: c.id, branchId: null, operatorId: o.id }, { ...company, operatorName: o.name });
  }
  const slots = computeCoverage({
    scopes: [...labels.keys()],
    environments: [input.environment],
    certificateTypes: CERTIFICATE_TYPES,
    certificates: certs,
    from,
    to,
  });
  const rows = slots.map(
    (s): TimelineRow => ({
      scope: s.scope,
      label: labels.get(s.scope) as TimelineLabel,
      certificateType: s.certificateType,
      spans: s.spans.map((x) => ({ id: x.certificate.id, mode: x.certificate.mode, validFrom: new Date(x.from), validTo: new Date(x.to) })),
      gaps: s.gaps.map((g) => ({ from: new Date(g.from), to: new Date(g.to) })),
    }),
  );
  return { rows, truncated: certs.length >= MAX_TIMELINE_CERTIFICATES };
}
