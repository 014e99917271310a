/**
 * The certificate list of the admin app: what a principal may see (rules.ts), filtered, one page at a
 * time with a keyset cursor (soonest expiry first), with the names of the company, branch and operator
 * it is held for and the total count. The visibility condition is SQL, so a page of 50 out of 100 000
 * rows costs one indexed query plus a count, whatever the role.
 */
import { and, asc, eq, getTableColumns, gt, ilike, inArray, lte, or, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg, type MessageRef } from "@ksef-certs/ksef/messages";
import { summarize, type CertificateSummary } from "../registry/certificates.js";
import { MS_PER_DAY, type CertificateTypeName, type Environment } from "../registry/internal.js";
import type { Db } from "../store/db.js";
import { branches, certificates, companies, operatorBranches, operators } from "../store/schema.js";
import type { Principal } from "./rules.js";

/** Filter of {@link listVisibleCertificates}. */
export interface VisibleCertificateFilter {
  readonly companyId?: string;
  /** Branch-scope certificates of this branch. */
  readonly branchId?: string;
  /** Operator-scope certificates of this operator. */
  readonly operatorId?: string;
  readonly environment?: Environment;
  readonly certificateType?: CertificateTypeName;
  readonly mode?: "current" | "queued";
  /**
   * State at the clock (`at`), the one meaning of each word for every list of certificates:
   * - `active`: not revoked and valid now (`validFrom` ≤ clock < `validTo`);
   * - `notYetValid`: not revoked, `validFrom` after the clock;
   * - `notExpired`: not revoked and `validTo` after the clock, i.e. `active` or `notYetValid` (the CLI's `--status active`);
   * - `expired`: not revoked, `validTo` at or before the clock;
   * - `revoked`: revoked, whatever the dates.
   */
  readonly state?: VisibleCertificateState;
  /** Not revoked, not expired, and `validTo` within this many days. */
  readonly expiringWithinDays?: number;
  /** Case-insensitive substring of the name, serial number or subject (at most 100 characters). */
  readonly search?: string;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
  /** Count matching rows up to this many (default {@link TOTAL_COUNT_CAP}); `totalIsCapped` says when more match. */
  readonly countCap?: number;
  /** Page size 1..200; default 50. */
  readonly limit?: number;
  /**
   * Every matching row from `cursor` on, fetched `limit` rows a query (the CLI, which prints all): `nextCursor` is
   * then null and `total` the exact count (`countCap` is ignored; `limit` defaults to 200).
   */
  readonly allPages?: boolean;
  /** The clock; default now. */
  readonly at?: Date;
}

/** The states {@link VisibleCertificateFilter.state} filters by. */
export type VisibleCertificateState = "active" | "notYetValid" | "notExpired" | "expired" | "revoked";

/** Who a listed certificate is held for, with names for display. */
export interface CertificateScopeView {
  readonly type: "company" | "branch" | "operator";
  readonly companyId: string;
  readonly companyNip: string;
  readonly companyName: string;
  readonly branchId: string | null;
  readonly branchCode: string | null;
  readonly operatorId: string | null;
  readonly operatorName: string | null;
}

/** One listed certificate. */
export type VisibleCertificate = CertificateSummary & { readonly scope: CertificateScopeView };

/** One page of {@link listVisibleCertificates}. */
export interface VisibleCertificatePage {
  readonly items: VisibleCertificate[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
  /** Rows matching the filter (all pages), counted up to {@link TOTAL_COUNT_CAP}. */
  readonly total: number;
  /** True when more than {@link TOTAL_COUNT_CAP} rows match: `total` is then a lower bound (show "10 000+"). */
  readonly totalIsCapped: boolean;
}

/**
 * Counting stops here: an exact count of 100 000 rows cost 15 ms of the 37 ms a page took (apps/admin bench), for a
 * number nobody reads past "more than ten thousand".
 */
export const TOTAL_COUNT_CAP = 10_000;

/** Every certificate column except the secrets and the DER (a listing never carries them). */
const { keyFile: _keyFile, sealedPassword: _sealed, certificateDer: _der, ...PUBLIC_COLUMNS } = getTableColumns(certificates);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The SQL condition on `certificates` of what the principal may read; undefined when it may read everything.
 * @param principal the signed-in account
 */
export function certificateVisibility(principal: Principal): SQL | undefined {
  return scopeVisibility(principal, certificates);
}

/** The scope columns of a table of things held for a company, branch or operator (certificates, enrollments). */
export interface ScopeColumns {
  readonly scopeType: AnyPgColumn;
  readonly companyId: AnyPgColumn;
  readonly branchId: AnyPgColumn;
  readonly operatorId: AnyPgColumn;
}

/**
 * The SQL condition of what the principal may read among rows held per scope, the rule of `canRead` (rules.ts):
 * everything for a super-admin and a global auditor, a whole company for its company admins and auditors, and for a
 * branch admin the company's own rows, its branch's and those of the operators working there. Undefined when it may
 * read everything.
 * @param principal the signed-in account
 * @param t the table's scope columns
 */
export function scopeVisibility(principal: Principal, t: ScopeColumns): SQL | undefined {
  if (principal.roles.some((g) => g.role === "super_admin" || (g.role === "auditor" && g.companyId === null))) return undefined;
  const parts: SQL[] = [];
  for (const g of principal.roles) {
    if ((g.role === "company_admin" || g.role === "auditor") && g.companyId !== null) parts.push(eq(t.companyId, g.companyId));
    if (g.role === "branch_admin" && g.companyId !== null && g.branchId !== null) {
      parts.push(
        and(
          eq(t.companyId, g.companyId),
          or(
            eq(t.scopeType, "company"),
            and(eq(t.scopeType, "branch"), eq(t.branchId, g.branchId)),
            and(
              eq(t.scopeType, "operator"),
              inArray(t.operatorId, sql`(SELECT ${operatorBranches.operatorId} FROM ${operatorBranches} WHERE ${operatorBranches.branchId} = ${g.branchId})`),
            ),
          ),
        ) as SQL,
      );
    }
  }
  return parts.length === 0 ? sql`false` : or(...parts);
}

function badFilter(field: string, message: MessageRef): KsefCertsError {
  const error = new KsefCertsError("VALIDATION", message);
  return new KsefCertsError("VALIDATION", message, { violations: [{ field, rule: `${field}.invalid`, message: error.message }] });
}

/**
 * Encodes a keyset cursor.
 * @param validTo the last row's validTo
 * @param id the last row's id
 */
function encodeCursor(validTo: Date, id: string): string {
  return Buffer.from(JSON.stringify([validTo.toISOString(), id]), "utf8").toString("base64url");
}

function decodeCursor(cursor: string): { validTo: Date; id: string } {
  try {
    const [v, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [string, string];
    const validTo = new Date(v);
    if (Number.isNaN(validTo.getTime()) || !UUID.test(id)) throw new Error("bad");
    return { validTo, id };
  } catch {
    throw badFilter("cursor", msg("access.certificates.badCursor"));
  }
}

/**
 * Lists the certificates the principal may see, soonest expiry first, as stored (modes as persisted: a queued
 * successor's takeover is written by the server's background job when it happens, never by a read).
 * @param db the database
 * @param principal the signed-in account
 * @param filter see {@link VisibleCertificateFilter}
 * @returns a page with a cursor and the total (with `allPages`, every matching row)
 * @throws {KsefCertsError} VALIDATION for a bad cursor, limit, search or expiry window
 */
export async function listVisibleCertificates(db: Db, principal: Principal, filter: VisibleCertificateFilter = {}): Promise<VisibleCertificatePage> {
  if (filter.allPages === true) {
    // One clock for every page, so a row cannot change state (and drop out of a filter) between two queries.
    const { allPages: _all, ...pageFilter } = filter;
    const at = filter.at ?? new Date();
    const items: VisibleCertificate[] = [];
    let cursor = filter.cursor;
    for (;;) {
      const page = await listVisibleCertificates(db, principal, { limit: 200, ...pageFilter, at, ...(cursor === undefined ? {} : { cursor }), countCap: 1 });
      items.push(...page.items);
      if (page.nextCursor === null) return { items, nextCursor: null, total: items.length, totalIsCapped: false };
      cursor = page.nextCursor;
    }
  }
  const at = filter.at ?? new Date();
  const limit = filter.limit ?? 50;
  const countCap = filter.countCap ?? TOTAL_COUNT_CAP;
  if (!Number.isSafeInteger(countCap) || countCap < 1) throw badFilter("countCap", msg("access.certificates.countCap"));
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 200) throw badFilter("limit", msg("access.certificates.limit"));
  if (
    filter.expiringWithinDays !== undefined &&
    !(Number.isFinite(filter.expiringWithinDays) && filter.expiringWithinDays >= 0 && filter.expiringWithinDays <= 36_500)
  ) {
    throw badFilter("expiringWithinDays", msg("access.certificates.expiringWithinDays"));
  }
  if (filter.search !== undefined && filter.search.length > 100) throw badFilter("search", msg("access.certificates.search"));
  for (const id of [filter.companyId, filter.branchId, filter.operatorId])
    if (id !== undefined && !UUID.test(id)) return { items: [], nextCursor: null, total: 0, totalIsCapped: false };

  const c: SQL[] = [];
  const visible = certificateVisibility(principal);
  if (visible !== undefined) c.push(visible);
  if (filter.companyId !== undefined) c.push(eq(certificates.companyId, filter.companyId));
  if (filter.branchId !== undefined) c.push(eq(certificates.branchId, filter.branchId));
  if (filter.operatorId !== undefined) c.push(eq(certificates.operatorId, filter.operatorId));
  if (filter.environment !== undefined) c.push(eq(certificates.environment, filter.environment));
  if (filter.certificateType !== undefined) c.push(eq(certificates.certificateType, filter.certificateType));
  if (filter.mode !== undefined) c.push(eq(certificates.mode, filter.mode));
  switch (filter.state) {
    case "active":
      c.push(eq(certificates.status, "active"), lte(certificates.validFrom, at), gt(certificates.validTo, at));
      break;
    case "notYetValid":
      c.push(eq(certificates.status, "active"), gt(certificates.validFrom, at));
      break;
    case "notExpired":
      c.push(eq(certificates.status, "active"), gt(certificates.validTo, at));
      break;
    case "expired":
      c.push(eq(certificates.status, "active"), lte(certificates.validTo, at));
      break;
    case "revoked":
      c.push(eq(certificates.status, "revoked"));
      break;
    default:
  }
  if (filter.expiringWithinDays !== undefined) {
    c.push(
      eq(certificates.status, "active"),
      gt(certificates.validTo, at),
      lte(certificates.validTo, new Date(at.getTime() + filter.expiringWithinDays * MS_PER_DAY)),
    );
  }
  const search = filter.search?.trim();
  if (search !== undefined && search !== "") {
    const pattern = `%${search.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    c.push(or(ilike(certificates.name, pattern), ilike(certificates.serialNumber, pattern), ilike(certificates.subject, pattern)) as SQL);
  }
  const where = c.length === 0 ? undefined : and(...c);
  const pageWhere = filter.cursor === undefined ? where : and(where, keysetAfter(decodeCursor(filter.cursor)));

  const rows = await db
    .select({
      ...PUBLIC_COLUMNS,
      passwordSealed: sql<boolean>`${certificates.sealedPassword} IS NOT NULL`,
      companyNip: companies.nip,
      companyName: companies.name,
      branchCode: branches.code,
      operatorName: operators.name,
    })
    .from(certificates)
    .innerJoin(companies, eq(companies.id, certificates.companyId))
    .leftJoin(branches, eq(branches.id, certificates.branchId))
    .leftJoin(operators, eq(operators.id, certificates.operatorId))
    .where(pageWhere)
    .orderBy(asc(certificates.validTo), asc(certificates.id))
    .limit(limit + 1);
  const matching = db
    .select({ one: sql`1` })
    .from(certificates)
    .where(where)
    .limit(countCap + 1)
    .as("matching");
  const [count] = await db.select({ n: sql<number>`count(*)::int` }).from(matching);
  const total = Math.min(count?.n ?? 0, countCap);
  const page = rows.slice(0, limit);
  const items = page.map(({ companyNip, companyName, branchCode, operatorName, ...row }) => ({
    ...summarize(row, at),
    scope: {
      type: row.scopeType,
      companyId: row.companyId,
      companyNip,
      companyName,
      branchId: row.branchId,
      branchCode: branchCode ?? null,
      operatorId: row.operatorId,
      operatorName: operatorName ?? null,
    },
  }));
  const last = page[page.length - 1];
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.validTo, last.id) : null,
    total,
    totalIsCapped: (count?.n ?? 0) > countCap,
  };
}

function keysetAfter(k: { validTo: Date; id: string }): SQL {
  return or(gt(certificates.validTo, k.validTo), and(eq(certificates.validTo, k.validTo), gt(certificates.id, k.id))) as SQL;
}
