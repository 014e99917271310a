/**
 * The organisation as a principal may see and change it: the tree of companies, branches (with their
 * workstations) and operators filtered in SQL by the same rules as `canRead` (rules.ts), and adding a company,
 * which only a super-admin may do (a company admin is bound to an existing company).
 */
import { and, asc, eq, inArray, isNull, or, type SQL, sql } from "drizzle-orm";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import {
  addBranch,
  addCompany,
  addOperator,
  addWorkstation,
  assignOperatorToBranch,
  type AddBranchInput,
  type AddOperatorInput,
  type AddWorkstationInput,
  type Branch,
  type Company,
  type Operator,
  type Workstation,
} from "../registry/organisation.js";
import type { ChangeMeta } from "../registry/internal.js";
import type { Db } from "../store/db.js";
import { branches, companies, operatorBranches, operators, workstations, workstationTokens } from "../store/schema.js";
import { authorizeEntity, authorizeScope, hasRole, type Principal } from "./rules.js";
import { violation } from "@ksef-certs/ksef/errors";

/** A workstation in {@link OrganisationBranch}: `paired` while it holds an unrevoked agent token. */
export interface OrganisationWorkstation {
  readonly id: string;
  readonly name: string;
  readonly outboxDir: string;
  readonly inboxDir: string;
  readonly paired: boolean;
}

/** A branch in {@link OrganisationCompany}, with its workstations by name. */
export interface OrganisationBranch {
  readonly id: string;
  readonly code: string;
  readonly name: string;
  readonly internalId: string | null;
  readonly workstations: OrganisationWorkstation[];
}

/** An operator in {@link OrganisationCompany}, with the ids of the branches they work at. */
export interface OrganisationOperator {
  readonly id: string;
  readonly name: string;
  readonly pesel: string | null;
  readonly nip: string | null;
  /** The operator's branches, sorted by id (stable whatever order the database returns the links in). */
  readonly branchIds: string[];
}

/** One company of {@link visibleOrganisation}: branches by code, operators by name. */
export interface OrganisationCompany {
  readonly id: string;
  readonly nip: string;
  readonly name: string;
  readonly branches: OrganisationBranch[];
  readonly operators: OrganisationOperator[];
}

/** What a principal's grants let it read: everything, whole companies, and single branches (of a branch admin). */
function readGrants(p: Principal): { all: boolean; companyIds: string[]; branchIds: string[]; anyCompanyIds: string[] } {
  const all = p.roles.some((g) => g.role === "super_admin" || (g.role === "auditor" && g.companyId === null));
  const companyIds = p.roles.filter((g) => (g.role === "company_admin" || g.role === "auditor") && g.companyId !== null).map((g) => g.companyId as string);
  const branchAdmin = p.roles.filter((g) => g.role === "branch_admin" && g.companyId !== null && g.branchId !== null);
  return {
    all,
    companyIds,
    branchIds: branchAdmin.map((g) => g.branchId as string),
    anyCompanyIds: [...companyIds, ...branchAdmin.map((g) => g.companyId as string)],
  };
}

/** `inArray` that is plainly false for no values. */
function within(column: Parameters<typeof inArray>[0], values: readonly string[]): SQL {
  return values.length === 0 ? sql`false` : inArray(column, [...values]);
}

/**
 * The organisation tree filtered to what `principal` may read, filtered in SQL: everything for a super-admin and
 * a global auditor; the whole company for its company admins and auditors; for a branch admin the company's name,
 * its branch (with the branch's workstations) and the operators working at that branch.
 * @param db the database
 * @param principal who asks
 * @returns companies by name, each with branches by code and operators by name
 */
export async function visibleOrganisation(db: Db, principal: Principal): Promise<OrganisationCompany[]> {
  const g = readGrants(principal);
  if (!g.all && g.anyCompanyIds.length === 0) return [];
  const companyWhere = g.all ? undefined : within(companies.id, g.anyCompanyIds);
  const branchWhere = g.all ? undefined : or(within(branches.companyId, g.companyIds), within(branches.id, g.branchIds));
  const operatorWhere = g.all
    ? undefined
    : or(
        within(operators.companyId, g.companyIds),
        g.branchIds.length === 0
          ? sql`false`
          : inArray(operators.id, db.select({ id: operatorBranches.operatorId }).from(operatorBranches).where(within(operatorBranches.branchId, g.branchIds))),
      );
  const [companyRows, branchRows, operatorRows] = await Promise.all([
    db.select().from(companies).where(companyWhere).orderBy(asc(companies.name), asc(companies.nip)),
    db.select().from(branches).where(branchWhere).orderBy(asc(branches.code)),
    db.select().from(operators).where(operatorWhere).orderBy(asc(operators.name)),
  ]);
  const branchIds = branchRows.map((b) => b.id);
  const operatorIds = operatorRows.map((o) => o.id);
  const [links, stations, pairedRows] = await Promise.all([
    operatorIds.length === 0 ? [] : db.select().from(operatorBranches).where(inArray(operatorBranches.operatorId, operatorIds)),
    branchIds.length === 0 ? [] : db.select().from(workstations).where(inArray(workstations.branchId, branchIds)).orderBy(asc(workstations.name)),
    branchIds.length === 0
      ? []
      : db
          .selectDistinct({ id: workstationTokens.workstationId })
          .from(workstationTokens)
          .innerJoin(workstations, eq(workstations.id, workstationTokens.workstationId))
          .where(and(inArray(workstations.branchId, branchIds), isNull(workstationTokens.revokedAt))),
  ]);
  const paired = new Set(pairedRows.map((r) => r.id));
  const branchIdsOf = new Map<string, string[]>();
  for (const l of links) branchIdsOf.set(l.operatorId, [...(branchIdsOf.get(l.operatorId) ?? []), l.branchId]);
  return companyRows.map((c) => ({
    id: c.id,
    nip: c.nip,
    name: c.name,
    branches: branchRows
      .filter((b) => b.companyId === c.id)
      .sort((a, b) => a.code.localeCompare(b.code))
      .map((b) => ({
        id: b.id,
        code: b.code,
        name: b.name,
        internalId: b.internalId,
        workstations: stations
          .filter((w) => w.branchId === b.id)
          .sort((a, b2) => a.name.localeCompare(b2.name))
          .map((w) => ({ id: w.id, name: w.name, outboxDir: w.outboxDir, inboxDir: w.inboxDir, paired: paired.has(w.id) })),
      })),
    operators: operatorRows
      .filter((o) => o.companyId === c.id)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((o) => ({ id: o.id, name: o.name, pesel: o.pesel, nip: o.nip, branchIds: [...(branchIdsOf.get(o.id) ?? [])].sort() })),
  }));
}

/**
 * Adds a company on behalf of `principal` (registry `addCompany`): only a super-admin may, since every other role is
 * bound to a company that exists.
 * @param db the database
 * @param principal who asks
 * @param input `nip` and `name`, as `addCompany` takes them
 * @param meta actor and clock
 * @returns the stored company
 * @throws {KsefCertsError} FORBIDDEN for any other role, before anything is read or written; the errors of `addCompany`
 */
export async function addCompanyAs(db: Db, principal: Principal, input: { readonly nip: string; readonly name: string }, meta: ChangeMeta): Promise<Company> {
  if (!hasRole(principal, "super_admin")) throw new KsefCertsError("FORBIDDEN", msg("access.company.addSuperAdminOnly"));
  return addCompany(db, input, meta);
}

/**
 * Adds a branch to a company on behalf of `principal` (registry `addBranch`): write access to the company (its
 * company admins, a super-admin).
 * @param db the database
 * @param principal who asks
 * @param input as `addBranch` takes it
 * @param meta actor and clock
 * @returns the stored branch
 * @throws {KsefCertsError} NOT_FOUND for a company the principal may not read; FORBIDDEN when it may only read it;
 *   the errors of `addBranch`
 */
export async function addBranchAs(db: Db, principal: Principal, input: AddBranchInput, meta: ChangeMeta): Promise<Branch> {
  await authorizeEntity(db, principal, "company", input.companyId, "write");
  return addBranch(db, input, meta);
}

/**
 * Adds an operator on behalf of `principal` (registry `addOperator`): a company admin of the company, or a branch
 * admin when the operator is to work at its branch. Every branch named must be readable and of the same company.
 * @param db the database
 * @param principal who asks
 * @param input as `addOperator` takes it
 * @param meta actor and clock
 * @returns the stored operator
 * @throws {KsefCertsError} NOT_FOUND for a company or branch the principal may not read; VALIDATION (rule
 *   `branchIds.company`) for a branch of another company; FORBIDDEN when the principal may not add there
 */
export async function addOperatorAs(db: Db, principal: Principal, input: AddOperatorInput, meta: ChangeMeta): Promise<Operator> {
  await authorizeEntity(db, principal, "company", input.companyId, "read");
  const branchIds = input.branchIds ?? [];
  for (const b of branchIds) {
    const s = await authorizeEntity(db, principal, "branch", b, "read");
    if (s.kind !== "branch" || s.companyId !== input.companyId) {
      throw new KsefCertsError("VALIDATION", msg("access.org.branchOtherCompany"), { violations: [violation("branchIds", "branchIds.company")] });
    }
  }
  authorizeScope(principal, { kind: "operator", companyId: input.companyId, operatorId: "", branchIds }, "write");
  return addOperator(db, input, meta);
}

/**
 * Adds a workstation to a branch on behalf of `principal` (registry `addWorkstation`): write access to the branch.
 * @param db the database
 * @param principal who asks
 * @param input as `addWorkstation` takes it
 * @param meta actor and clock
 * @returns the stored workstation
 * @throws {KsefCertsError} NOT_FOUND for a branch the principal may not read; FORBIDDEN when it may only read it
 */
export async function addWorkstationAs(db: Db, principal: Principal, input: AddWorkstationInput, meta: ChangeMeta): Promise<Workstation> {
  await authorizeEntity(db, principal, "branch", input.branchId, "write");
  return addWorkstation(db, input, meta);
}

/**
 * Links an operator to a branch on behalf of `principal`: it must read the operator and change the branch, and
 * both must be of one company.
 * @param db the database
 * @param principal who asks
 * @param input the operator and the branch
 * @param meta actor and clock
 * @returns `{ added }`: false when the link existed
 * @throws {KsefCertsError} NOT_FOUND / FORBIDDEN as for each entity; VALIDATION (rule `branchId.company`) across companies
 */
export async function assignOperatorToBranchAs(
  db: Db,
  principal: Principal,
  input: { readonly operatorId: string; readonly branchId: string },
  meta: ChangeMeta,
): ReturnType<typeof assignOperatorToBranch> {
  const op = await authorizeEntity(db, principal, "operator", input.operatorId, "read");
  const branch = await authorizeEntity(db, principal, "branch", input.branchId, "write");
  if (op.kind !== "operator" || branch.kind !== "branch" || op.companyId !== branch.companyId) {
    throw new KsefCertsError("VALIDATION", msg("access.org.operatorBranchCompanies"), { violations: [violation("branchId", "branchId.company")] });
  }
  return assignOperatorToBranch(db, input, meta);
}
