/**
 * Coverage: the one meaning of "this slot has a certificate at that moment", shared by the coverage-gap report
 * (one date, every slot) and the expiry timeline (a range, the slots a principal may see).
 *
 * A slot is a scope (company, branch or operator) × environment × certificate type. A certificate covers its slot
 * from `validFrom` until `validTo`, or until its revocation when it was revoked earlier: sign-in with a revoked
 * certificate fails (status 460, docs/ksef.md). A certificate
 * marked revoked without a revocation time never covers. Queued certificates count like current ones: by the time
 * they start, the registry promotes them. Resolution's fallback to a wider scope is not coverage of the narrower
 * slot: the report names it separately.
 */
import { type SQL, sql } from "drizzle-orm";
import { certificates } from "../store/schema.js";
import type { ResolvedScope } from "./certificates.js";
import type { CertificateTypeName, Environment } from "./internal.js";

/** What coverage reads of a certificate (a `CertificateSummary` or a visible certificate fits). */
export interface CoverageCertificate {
  readonly id: string;
  readonly scopeType: "company" | "branch" | "operator";
  readonly companyId: string;
  readonly branchId: string | null;
  readonly operatorId: string | null;
  readonly environment: Environment;
  readonly certificateType: CertificateTypeName;
  readonly status: "active" | "revoked";
  readonly validFrom: Date;
  readonly validTo: Date;
  /** When it was revoked, if it was. */
  readonly revokedAt: Date | null;
}

/** A half-open interval [from, to) of epoch milliseconds. */
export interface MsInterval {
  readonly from: number;
  readonly to: number;
}

/**
 * The interval during which a certificate covers its slot: [`validFrom`, min(`validTo`, `revokedAt`)); null
 * when it never does (revoked without a time, or revoked before it started).
 * @param c the certificate
 * @returns epoch ms, or null
 */
export function coveredSpan(c: CoverageCertificate): MsInterval | null {
  const from = c.validFrom.getTime();
  const revokedAt = c.revokedAt?.getTime() ?? (c.status === "revoked" ? from : Number.POSITIVE_INFINITY);
  const to = Math.min(c.validTo.getTime(), revokedAt);
  return to > from ? { from, to } : null;
}

/**
 * The SQL form of the end of {@link coveredSpan} on the `certificates` table (a timestamp): the time the
 * certificate stops covering. For a certificate that never covers it is at or before `valid_from`. A test
 * checks it against {@link coveredSpan} on both databases.
 */
export const coveredUntilSql: SQL = sql`case when ${certificates.revokedAt} is not null then least(${certificates.validTo}, ${certificates.revokedAt}) when ${certificates.status} = 'revoked' then ${certificates.validFrom} else ${certificates.validTo} end`;

/**
 * The SQL condition "covers its slot at `on`" ({@link coveredSpan} holds `on`), or with `ended`, "had started by
 * `on` and no longer covers it" (expired or revoked by then).
 * @param on the moment
 * @param ended which of the two conditions
 */
export function coverageAtSql(on: Date, ended = false): SQL {
  // A bound timestamp, not a Date: a raw SQL expression has no column to map the value through.
  const t = sql`${on.toISOString()}::timestamptz`;
  return ended
    ? sql`(${certificates.validFrom} <= ${t} and ${coveredUntilSql} <= ${t})`
    : sql`(${certificates.validFrom} <= ${t} and ${coveredUntilSql} > ${t})`;
}

/**
 * The parts of [from, to) that no interval covers, in order.
 * @param spans covered intervals (epoch ms), any order, may overlap
 * @param from start (epoch ms)
 * @param to end (epoch ms, exclusive)
 * @returns disjoint intervals, empty when everything is covered or `to <= from`
 */
export function uncovered(spans: readonly MsInterval[], from: number, to: number): MsInterval[] {
  const sorted = spans.filter((s) => s.to > s.from && s.to > from && s.from < to).sort((a, b) => a.from - b.from);
  const gaps: MsInterval[] = [];
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
 * The key of a slot: scope type, company, branch (branch scope) or operator (operator scope), environment, type.
 * @param s the slot's parts, as a certificate row or a scope with an environment and a type
 */
export function slotKey(s: {
  readonly scopeType: string;
  readonly companyId: string;
  readonly branchId: string | null;
  readonly operatorId: string | null;
  readonly environment: string;
  readonly certificateType: string;
}): string {
  return [
    s.scopeType,
    s.companyId,
    s.scopeType === "branch" ? s.branchId : "",
    s.scopeType === "operator" ? s.operatorId : "",
    s.environment,
    s.certificateType,
  ].join("|");
}

/**
 * The {@link slotKey} of a scope's slot.
 * @param scope the scope
 * @param environment the environment
 * @param certificateType the certificate type
 */
export function scopeSlotKey(scope: ResolvedScope, environment: Environment, certificateType: CertificateTypeName): string {
  return slotKey({ scopeType: scope.type, companyId: scope.companyId, branchId: scope.branchId, operatorId: scope.operatorId, environment, certificateType });
}

/** One slot's coverage of a range, from {@link computeCoverage}. */
export interface SlotCoverage<C extends CoverageCertificate> {
  readonly scope: ResolvedScope;
  readonly environment: Environment;
  readonly certificateType: CertificateTypeName;
  /** The slot's certificates that cover part of the range, by start, each with its whole covered span (epoch ms). */
  readonly spans: readonly { readonly certificate: C; readonly from: number; readonly to: number }[];
  /** The parts of the range no certificate of the slot covers (epoch ms), in order. */
  readonly gaps: readonly MsInterval[];
}

/** Input of {@link computeCoverage}. */
export interface CoverageInput<C extends CoverageCertificate> {
  /** The scopes, in the order the answer lists them. */
  readonly scopes: readonly ResolvedScope[];
  readonly environments: readonly Environment[];
  readonly certificateTypes: readonly CertificateTypeName[];
  /** Certificates of any slots; those of slots not asked for are ignored. */
  readonly certificates: readonly C[];
  /** The range [from, to), epoch ms. */
  readonly from: number;
  readonly to: number;
}

/**
 * Every slot's coverage of [from, to): scopes in the given order, then environments, then types.
 * @param input see {@link CoverageInput}
 * @returns one entry per scope × environment × type
 */
export function computeCoverage<C extends CoverageCertificate>(input: CoverageInput<C>): SlotCoverage<C>[] {
  const bySlot = new Map<string, { certificate: C; from: number; to: number }[]>();
  for (const certificate of input.certificates) {
    const span = coveredSpan(certificate);
    if (span === null || span.to <= input.from || span.from >= input.to) continue;
    const key = slotKey(certificate);
    const list = bySlot.get(key);
    if (list === undefined) bySlot.set(key, [{ certificate, ...span }]);
    else list.push({ certificate, ...span });
  }
  const out: SlotCoverage<C>[] = [];
  for (const scope of input.scopes) {
    for (const environment of input.environments) {
      for (const certificateType of input.certificateTypes) {
        const spans = (bySlot.get(scopeSlotKey(scope, environment, certificateType)) ?? []).sort((a, b) => a.from - b.from);
        out.push({ scope, environment, certificateType, spans, gaps: uncovered(spans, input.from, input.to) });
      }
    }
  }
  return out;
}
