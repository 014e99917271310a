/**
 * Who may read or change what in the admin app. A {@link Principal} is a signed-in account
 * with its role grants; an {@link AccessScope} is what a thing belongs to (a company, a branch, an
 * operator with the branches they work at, or the whole installation). Every procedure that takes an id
 * first resolves its scope with {@link scopeOfEntity}, then asks {@link canRead} / {@link canWrite}.
 *
 * Roles:
 * - `super_admin`: everything, including accounts and the whole audit log.
 * - `company_admin` (one company): read and change the company, its branches, operators, workstations,
 *   certificates and enrollments.
 * - `branch_admin` (one branch): read and change the branch, its workstations, branch-scope certificates
 *   of that branch, the operators who work there and their operator-scope certificates. It may READ the
 *   company and company-scope certificates (resolution falls back to them, so the branch needs to see what
 *   it will use) but not change or export them. Nothing of another branch, not even for reading.
 * - `auditor` (every company, or one): read-only.
 */
import { eq } from "drizzle-orm";
import type { Db } from "../store/db.js";
import { branches, certificates, enrollments, operatorBranches, operators, workstations, companies } from "../store/schema.js";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";

/** An admin-app role (schema enum `user_role`). */
export type Role = "super_admin" | "company_admin" | "branch_admin" | "auditor";

/** The roles, most powerful first. */
export const ROLES: readonly Role[] = ["super_admin", "company_admin", "branch_admin", "auditor"];

/** One role granted to an account, with its scope: none (super_admin, auditor of all), a company, or a branch (with its company). */
export interface RoleGrant {
  readonly role: Role;
  readonly companyId: string | null;
  readonly branchId: string | null;
}

/** A signed-in account as the authorisation rules see it. */
export interface Principal {
  readonly userId: string;
  /** Lower-case login name (also the audit log's actor: `user:<login>`). */
  readonly login: string;
  readonly displayName: string;
  readonly locale: "pl" | "en";
  readonly roles: readonly RoleGrant[];
}

/** What a thing belongs to, as far as access is concerned. */
export type AccessScope =
  | { readonly kind: "global" }
  | { readonly kind: "company"; readonly companyId: string }
  | { readonly kind: "branch"; readonly companyId: string; readonly branchId: string }
  /** An operator (or something held for one), with the branches the operator works at. */
  | { readonly kind: "operator"; readonly companyId: string; readonly operatorId: string; readonly branchIds: readonly string[] };

/** The kinds of entity {@link scopeOfEntity} resolves. */
export type EntityKind = "company" | "branch" | "operator" | "workstation" | "certificate" | "enrollment";

function grantReads(g: RoleGrant, s: AccessScope): boolean {
  switch (g.role) {
    case "super_admin":
      return true;
    case "auditor":
      return g.companyId === null || (s.kind !== "global" && s.companyId === g.companyId);
    case "company_admin":
      return s.kind !== "global" && s.companyId === g.companyId;
    case "branch_admin":
      if (s.kind === "global" || s.companyId !== g.companyId) return false;
      if (s.kind === "company") return true;
      if (s.kind === "branch") return s.branchId === g.branchId;
      return g.branchId !== null && s.branchIds.includes(g.branchId);
  }
}

function grantWrites(g: RoleGrant, s: AccessScope): boolean {
  switch (g.role) {
    case "super_admin":
      return true;
    case "auditor":
      return false;
    case "company_admin":
      return s.kind !== "global" && s.companyId === g.companyId;
    case "branch_admin":
      if (s.kind === "global" || s.kind === "company" || s.companyId !== g.companyId) return false;
      if (s.kind === "branch") return s.branchId === g.branchId;
      return g.branchId !== null && s.branchIds.includes(g.branchId);
  }
}

/**
 * Whether the principal may see things of this scope.
 * @param principal the signed-in account
 * @param scope what the thing belongs to
 */
export function canRead(principal: Principal, scope: AccessScope): boolean {
  return principal.roles.some((g) => grantReads(g, scope));
}

/**
 * Whether the principal may change (or export the keys of) things of this scope.
 * @param principal the signed-in account
 * @param scope what the thing belongs to
 */
export function canWrite(principal: Principal, scope: AccessScope): boolean {
  return principal.roles.some((g) => grantWrites(g, scope));
}

/**
 * Whether the principal holds one of the roles (at any scope).
 * @param principal the signed-in account
 * @param roles roles accepted
 */
export function hasRole(principal: Principal, ...roles: Role[]): boolean {
  return principal.roles.some((g) => roles.includes(g.role));
}

/**
 * The NOT_FOUND answer for an entity the principal may not see: the same as for an id that does not
 * exist, so guessing ids reveals nothing.
 * @param kind entity kind
 * @param id the id asked for
 */
export function hiddenEntity(kind: EntityKind, id: string): KsefCertsError {
  return new KsefCertsError("NOT_FOUND", msg(`access.entity.notFound.${kind}`, { id: JSON.stringify(id) }), { details: { entity: kind, id } });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function branchIdsOf(db: Db, operatorId: string): Promise<string[]> {
  const rows = await db.select({ branchId: operatorBranches.branchId }).from(operatorBranches).where(eq(operatorBranches.operatorId, operatorId));
  return rows.map((r) => r.branchId);
}

/**
 * What an entity belongs to: a company → company scope; a branch or workstation → branch scope; an
 * operator → operator scope with their branches; a certificate or enrollment → the scope it is held for.
 * @param db the database
 * @param kind the entity kind
 * @param id its id (any string: a malformed id is simply not found)
 * @returns the scope
 * @throws {KsefCertsError} NOT_FOUND when there is no such entity (the same error as {@link hiddenEntity})
 */
export async function scopeOfEntity(db: Db, kind: EntityKind, id: string): Promise<AccessScope> {
  if (!UUID.test(id)) throw hiddenEntity(kind, id);
  switch (kind) {
    case "company": {
      const [row] = await db.select({ id: companies.id }).from(companies).where(eq(companies.id, id));
      if (row === undefined) throw hiddenEntity(kind, id);
      return { kind: "company", companyId: row.id };
    }
    case "branch": {
      const [row] = await db.select({ id: branches.id, companyId: branches.companyId }).from(branches).where(eq(branches.id, id));
      if (row === undefined) throw hiddenEntity(kind, id);
      return { kind: "branch", companyId: row.companyId, branchId: row.id };
    }
    case "operator": {
      const [row] = await db.select({ id: operators.id, companyId: operators.companyId }).from(operators).where(eq(operators.id, id));
      if (row === undefined) throw hiddenEntity(kind, id);
      return { kind: "operator", companyId: row.companyId, operatorId: row.id, branchIds: await branchIdsOf(db, row.id) };
    }
    case "workstation": {
      const [row] = await db
        .select({ branchId: workstations.branchId, companyId: branches.companyId })
        .from(workstations)
        .innerJoin(branches, eq(branches.id, workstations.branchId))
        .where(eq(workstations.id, id));
      if (row === undefined) throw hiddenEntity(kind, id);
      return { kind: "branch", companyId: row.companyId, branchId: row.branchId };
    }
    case "certificate":
    case "enrollment": {
      const table = kind === "certificate" ? certificates : enrollments;
      const [row] = await db
        .select({ scopeType: table.scopeType, companyId: table.companyId, branchId: table.branchId, operatorId: table.operatorId })
        .from(table)
        .where(eq(table.id, id));
      if (row === undefined) throw hiddenEntity(kind, id);
      return heldScope(db, row);
    }
  }
}

/**
 * The access scope of something held for a company, branch or operator (a certificate row, an enrollment, a requested scope).
 * @param db the database (to read an operator's branches)
 * @param held scope type and owner ids as stored
 */
export async function heldScope(
  db: Db,
  held: {
    readonly scopeType: "company" | "branch" | "operator";
    readonly companyId: string;
    readonly branchId: string | null;
    readonly operatorId: string | null;
  },
): Promise<AccessScope> {
  if (held.scopeType === "branch" && held.branchId !== null) return { kind: "branch", companyId: held.companyId, branchId: held.branchId };
  if (held.scopeType === "operator" && held.operatorId !== null) {
    return { kind: "operator", companyId: held.companyId, operatorId: held.operatorId, branchIds: await branchIdsOf(db, held.operatorId) };
  }
  return { kind: "company", companyId: held.companyId };
}

/**
 * Resolves the entity's scope and checks the principal may read (or write) it.
 * @param db the database
 * @param principal the signed-in account
 * @param kind entity kind
 * @param id entity id
 * @param access `read` or `write`
 * @returns the scope
 * @throws {KsefCertsError} NOT_FOUND when it does not exist or the principal may not even read it; FORBIDDEN when
 *   the principal may read but not write it
 */
export async function authorizeEntity(db: Db, principal: Principal, kind: EntityKind, id: string, access: "read" | "write"): Promise<AccessScope> {
  const scope = await scopeOfEntity(db, kind, id);
  if (!canRead(principal, scope)) throw hiddenEntity(kind, id);
  if (access === "write" && !canWrite(principal, scope)) {
    throw new KsefCertsError("FORBIDDEN", msg(`access.entity.readOnly.${kind}`), {
      hint: msg("access.entity.readOnly.hint"),
      details: { entity: kind, id },
    });
  }
  return scope;
}

/**
 * Checks a scope (not an entity: e.g. where something is to be created) and throws FORBIDDEN when the principal may not write it.
 * @param principal the signed-in account
 * @param scope the target scope
 * @param access `read` or `write`
 * @throws {KsefCertsError} FORBIDDEN
 */
export function authorizeScope(principal: Principal, scope: AccessScope, access: "read" | "write"): void {
  const ok = access === "read" ? canRead(principal, scope) : canWrite(principal, scope);
  if (!ok)
    throw new KsefCertsError("FORBIDDEN", msg(access === "read" ? "access.scope.noRead" : "access.scope.noWrite"), {
      details: { scope: scope.kind },
    });
}
