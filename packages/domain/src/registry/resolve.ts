/**
 * Which certificate an ERP adapter uses: the operator's current certificate, else
 * the branch's, else the company's, valid at the given moment, and which rule matched.
 *
 * Cost: one query for the operator/branch/company ids (primary keys), one query for the candidates of
 * the three scopes (indexes on operator, branch and company). Resolution is a pure read at any date: a
 * queued successor that takes over by `at` is the answer for its slot whether or not the takeover has been
 * persisted yet (the server's background job persists it when it happens), so the answer never depends on a
 * timer having run and a question about the future changes nothing.
 */
import { and, eq, gt, inArray, lte, or, type SQL, sql } from "drizzle-orm";
import { KsefCertsError, type Violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { Db } from "../store/db.js";
import { branches, certificates, companies, operatorBranches, operators } from "../store/schema.js";
import { type CertificateSummary, type ResolvedScope, selectSummaries, summarize } from "./certificates.js";
import { assertValid, type CertificateTypeName, type Environment, isUuid, notFound } from "./internal.js";

/** The rules tried, in order. */
export type ResolutionRule = "operator" | "branch" | "company";

/** Input of {@link certificateFor}. */
export interface CertificateForInput {
  /** The operator working (their own certificate wins). */
  readonly operatorId?: string;
  /**
   * The branch they work at (the operator must work there); its certificate is the second choice.
   * Without it the branch rule is skipped (an operator may work at several branches: no guessing).
   */
  readonly branchId?: string;
  /** The company; derived from the operator or branch when not given (must agree when given). */
  readonly companyId?: string;
  readonly environment: Environment;
  readonly certificateType: CertificateTypeName;
  /** The moment the certificate must be valid at; default now. */
  readonly at?: Date;
}

/** The answer of {@link certificateFor}. */
export type CertificateResolution =
  | {
      readonly found: true;
      readonly certificate: CertificateSummary;
      readonly rule: ResolutionRule;
      readonly scope: ResolvedScope;
      /** The rules tried, ending with the one that matched. */
      readonly tried: readonly ResolutionRule[];
    }
  | { readonly found: false; readonly tried: readonly ResolutionRule[] };

/**
 * Resolves the certificate to use for an operator / branch / company: the operator's current valid
 * certificate (or the queued one that has taken over by `at`), else the branch's, else the company's
 * (status active, `validFrom ≤ at < validTo`). Writes nothing.
 * @param db the database
 * @param input see {@link CertificateForInput}
 * @returns `{ found: true, certificate, rule, scope, tried }` or `{ found: false, tried }`
 * @throws {KsefCertsError} VALIDATION when nothing is given, or the operator does not work at the branch, or the ids name different companies
 * @throws {KsefCertsError} NOT_FOUND for an unknown operator, branch or company
 */
export async function certificateFor(db: Db, input: CertificateForInput): Promise<CertificateResolution> {
  const at = input.at ?? new Date();
  if (input.operatorId === undefined && input.branchId === undefined && input.companyId === undefined) {
    assertValid([{ field: "operatorId", rule: "resolution.scope", message: "Give an operator, a branch or a company." }], "The resolution");
  }
  for (const [entity, id] of [
    ["operator", input.operatorId],
    ["branch", input.branchId],
    ["company", input.companyId],
  ] as const) {
    if (id !== undefined && !isUuid(id)) throw notFound(entity, String(id));
  }

  // One round trip for the ids: the operator's company and whether they work at the branch, the branch's company, the company.
  const ids = rowsOf<IdsRow>(
    await db.execute(sql`
    SELECT
      (SELECT ${operators.companyId} FROM ${operators} WHERE ${operators.id} = ${input.operatorId ?? null}::uuid) AS operator_company,
      (SELECT ${branches.companyId} FROM ${branches} WHERE ${branches.id} = ${input.branchId ?? null}::uuid) AS branch_company,
      (SELECT ${companies.id} FROM ${companies} WHERE ${companies.id} = ${input.companyId ?? null}::uuid) AS company,
      EXISTS (SELECT 1 FROM ${operatorBranches} WHERE ${operatorBranches.operatorId} = ${input.operatorId ?? null}::uuid AND ${operatorBranches.branchId} = ${input.branchId ?? null}::uuid) AS works_there
  `),
  )[0];
  if (input.operatorId !== undefined && !ids?.operator_company) throw notFound("operator", input.operatorId);
  if (input.branchId !== undefined && !ids?.branch_company) throw notFound("branch", input.branchId);
  if (input.companyId !== undefined && !ids?.company) throw notFound("company", input.companyId);
  const companyIds = new Set([ids?.operator_company, ids?.branch_company, ids?.company].filter((x): x is string => typeof x === "string"));
  const v: Violation[] = [];
  if (companyIds.size > 1)
    v.push({ field: "companyId", rule: "resolution.sameCompany", message: "The operator, branch and company given belong to different companies." });
  else if (input.operatorId !== undefined && input.branchId !== undefined && ids?.works_there !== true) {
    v.push({ field: "branchId", rule: "resolution.operatorAtBranch", message: "The operator does not work at this branch." });
  }
  assertValid(v, "The resolution");
  const [companyId] = [...companyIds];
  if (companyId === undefined) throw new KsefCertsError("INTERNAL", msg("registry.resolve.noCompany"));

  const tried: ResolutionRule[] = [];
  const scopes: SQL[] = [];
  if (input.operatorId !== undefined) {
    tried.push("operator");
    scopes.push(and(eq(certificates.scopeType, "operator"), eq(certificates.operatorId, input.operatorId)) as SQL);
  }
  if (input.branchId !== undefined) {
    tried.push("branch");
    scopes.push(and(eq(certificates.scopeType, "branch"), eq(certificates.branchId, input.branchId)) as SQL);
  }
  tried.push("company");
  scopes.push(and(eq(certificates.scopeType, "company"), eq(certificates.companyId, companyId)) as SQL);

  const rows = await selectSummaries(
    db,
    and(
      or(...scopes),
      eq(certificates.environment, input.environment),
      eq(certificates.certificateType, input.certificateType),
      inArray(certificates.mode, ["current", "queued"]),
      eq(certificates.status, "active"),
      lte(certificates.validFrom, at),
      gt(certificates.validTo, at),
    ),
  );
  for (const [i, rule] of tried.entries()) {
    // The slot's current certificate valid at `at` (if history left two, the one valid longest); else the queued one that
    // takes over by then (the earliest to start), exactly as the takeover will be persisted: reading never writes it.
    const inSlot = rows.filter((r) => r.scopeType === rule);
    const current = inSlot.filter((r) => r.mode === "current").sort((a, b) => b.validTo.getTime() - a.validTo.getTime())[0];
    const match = current ?? inSlot.filter((r) => r.mode === "queued").sort((a, b) => a.validFrom.getTime() - b.validFrom.getTime())[0];
    if (match !== undefined) {
      return {
        found: true,
        certificate: summarize(match, at),
        rule,
        scope: {
          type: rule,
          companyId,
          branchId: rule === "branch" ? (input.branchId ?? null) : null,
          operatorId: rule === "operator" ? (input.operatorId ?? null) : null,
        },
        tried: tried.slice(0, i + 1),
      };
    }
  }
  return { found: false, tried };
}

interface IdsRow {
  readonly operator_company: string | null;
  readonly branch_company: string | null;
  readonly company: string | null;
  readonly works_there: boolean | null;
}

/** `db.execute` returns an array on postgres.js and `{ rows }` on PGlite. */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return (result as { rows: T[] }).rows;
}
