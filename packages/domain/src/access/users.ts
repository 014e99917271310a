/**
 * Local accounts of the admin app and their role grants. Logins are stored lower-case; passwords only as
 * scrypt hashes (`password.ts`); every change has its audit entry in the same transaction.
 *
 * Who manages accounts (the `…As` use cases, which take the signed-in principal; the others are for the
 * installation's own operator, e.g. the first super-admin `serve` creates):
 * - a super-admin: every account and every role, except revoking its own roles (so the last super-admin
 *   cannot remove itself: only a super-admin revokes super-admin, and never its own);
 * - a company admin: accounts holding a role in one of its companies (it sees only those roles and the
 *   roles over every company), and only roles over its companies or their branches; never super-admin or
 *   auditor of every company, never an account holding one of those, never its own roles;
 * - anyone else: nothing (FORBIDDEN).
 */
import { and, asc, eq, isNull } from "drizzle-orm";
import { KsefCertsError, type Violation, violation } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { appendAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { branches, companies, userRoles, users, webSessions } from "../store/schema.js";
import { inTransaction, isUniqueViolation, type ChangeMeta } from "../registry/internal.js";
import { hashPassword, MAX_PASSWORD_CHARS, verifyPassword } from "./password.js";
import { canRead, hiddenEntity, scopeOfEntity, type Principal, type Role, type RoleGrant } from "./rules.js";

/** An account without its password hash. */
export interface User {
  readonly id: string;
  readonly login: string;
  readonly displayName: string;
  readonly locale: "pl" | "en";
  readonly disabledAt: Date | null;
  readonly createdAt: Date;
}

/** An account with its grants. */
export interface UserWithRoles extends User {
  readonly roles: readonly (RoleGrant & { readonly id: string })[];
}

/** Shortest password for an admin-app account (characters; NIST SP 800-63B §3.1.1.2 asks for at least 8, we ask 12 for admins). */
export const MIN_ACCOUNT_PASSWORD_CHARS = 12;

/** UI languages (checked at run time too: inputs may come from JavaScript callers). */
const LOCALES: readonly string[] = ["pl", "en"];

const LOGIN = /^[a-z0-9][a-z0-9._@-]{1,63}$/;

const userColumns = {
  id: users.id,
  login: users.login,
  displayName: users.displayName,
  locale: users.locale,
  disabledAt: users.disabledAt,
  createdAt: users.createdAt,
};

/**
 * The violations of a new account password (length only: composition rules do not help, NIST SP 800-63B).
 * @param password the password
 * @param field form field name
 */
export function checkAccountPassword(password: unknown, field = "password"): Violation[] {
  const length = typeof password === "string" ? Array.from(password).length : 0;
  if (length < MIN_ACCOUNT_PASSWORD_CHARS || length > MAX_PASSWORD_CHARS) {
    return [
      {
        field,
        rule: "password.length",
        message: `The password must have ${MIN_ACCOUNT_PASSWORD_CHARS} to ${MAX_PASSWORD_CHARS} characters.`,
        params: { min: MIN_ACCOUNT_PASSWORD_CHARS, max: MAX_PASSWORD_CHARS },
      },
    ];
  }
  return [];
}

/**
 * Normalises a login: trimmed and lower-case.
 * @param login as typed
 */
export function normalizeLogin(login: string): string {
  return typeof login === "string" ? login.trim().toLowerCase() : "";
}

/** Input of {@link createUser}. */
export interface CreateUserInput {
  /** 2–64 characters: letters, digits, `.`, `_`, `@`, `-` (stored lower-case). */
  readonly login: string;
  /** 1–200 characters. */
  readonly displayName: string;
  /** {@link MIN_ACCOUNT_PASSWORD_CHARS}..1024 characters. */
  readonly password: string;
  readonly locale?: "pl" | "en";
  /** A first grant, in the same transaction. */
  readonly role?: Omit<RoleGrant, "companyId" | "branchId"> & { readonly companyId?: string | null; readonly branchId?: string | null };
}

/**
 * Creates an account (and optionally its first role grant).
 * @param db the database
 * @param input login, display name, password, locale, first role
 * @param meta actor and clock
 * @returns the account with its grants
 * @throws {KsefCertsError} VALIDATION for a bad login, name, password or role scope; CONFLICT when the login is taken;
 *   NOT_FOUND when the role's company or branch does not exist
 */
export async function createUser(db: Db, input: CreateUserInput, meta: ChangeMeta): Promise<UserWithRoles> {
  const v: Violation[] = [];
  const login = normalizeLogin(input.login);
  if (!LOGIN.test(login))
    v.push({ field: "login", rule: "login.format", message: "The login must have 2 to 64 characters: letters, digits, '.', '_', '@' or '-'." });
  const displayName = typeof input.displayName === "string" ? input.displayName.trim() : "";
  if (displayName.length === 0 || Array.from(displayName).length > 200) {
    v.push({ field: "displayName", rule: "displayName.length", message: "The display name must have 1 to 200 characters.", params: { min: 1, max: 200 } });
  }
  v.push(...checkAccountPassword(input.password));
  if (input.locale !== undefined && !LOCALES.includes(input.locale)) v.push(violation("locale", "locale.known"));
  if (v.length > 0) throw new KsefCertsError("VALIDATION", msg("users.create.invalid", { reasons: v.map((x) => x.message).join(" ") }), { violations: v });
  const passwordHash = await hashPassword(input.password);
  const at = meta.at ?? new Date();
  try {
    return await inTransaction(db, async (tx) => {
      const [row] = await tx
        .insert(users)
        .values({ login, displayName, passwordHash, locale: input.locale ?? "pl", createdAt: at, updatedAt: at })
        .returning(userColumns);
      if (row === undefined) throw new KsefCertsError("INTERNAL", msg("users.create.notInserted"));
      await appendAudit(tx, {
        actor: meta.actor,
        action: "user.create",
        entityType: "user",
        entityId: row.id,
        after: { login, displayName, locale: row.locale },
        at,
      });
      if (input.role !== undefined) {
        await grantRole(tx, { userId: row.id, role: input.role.role, companyId: input.role.companyId ?? null, branchId: input.role.branchId ?? null }, meta);
      }
      return getUser(tx, row.id);
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw new KsefCertsError("CONFLICT", msg("users.loginTaken", { login }), {
        violations: [{ field: "login", rule: "login.unique", message: "This login is taken." }],
      });
    throw err;
  }
}

/**
 * One account with its grants.
 * @param db the database
 * @param id account id
 * @throws {KsefCertsError} NOT_FOUND
 */
export async function getUser(db: Db, id: string): Promise<UserWithRoles> {
  const [row] = /^[0-9a-f-]{36}$/i.test(id) ? await db.select(userColumns).from(users).where(eq(users.id, id)) : [];
  if (row === undefined) throw new KsefCertsError("NOT_FOUND", msg("users.notFound", { id: JSON.stringify(id) }), { details: { entity: "user", id } });
  const roles = await db
    .select({ id: userRoles.id, role: userRoles.role, companyId: userRoles.companyId, branchId: userRoles.branchId })
    .from(userRoles)
    .where(eq(userRoles.userId, id))
    .orderBy(asc(userRoles.createdAt), asc(userRoles.id));
  return { ...row, roles };
}

/**
 * Every account with its grants, by login.
 * @param db the database
 */
export async function listUsers(db: Db): Promise<UserWithRoles[]> {
  const rows = await db.select(userColumns).from(users).orderBy(asc(users.login));
  const grants = await db
    .select({ id: userRoles.id, userId: userRoles.userId, role: userRoles.role, companyId: userRoles.companyId, branchId: userRoles.branchId })
    .from(userRoles);
  return rows.map((u) => ({ ...u, roles: grants.filter((g) => g.userId === u.id).map(({ userId: _u, ...g }) => g) }));
}

/**
 * How many accounts exist (the server creates the first super-admin when there are none).
 * @param db the database
 */
export async function countUsers(db: Db): Promise<number> {
  const rows = await db.select({ id: users.id }).from(users).limit(1);
  return rows.length;
}

/** Input of {@link grantRole} / {@link revokeRole}. */
export interface RoleGrantInput {
  readonly userId: string;
  readonly role: Role;
  /** Required for company_admin and branch_admin (derived from the branch when omitted); optional for auditor; none for super_admin. */
  readonly companyId?: string | null;
  /** Required for branch_admin only. */
  readonly branchId?: string | null;
}

async function normalizeGrant(db: Db, input: RoleGrantInput): Promise<RoleGrant> {
  const v: Violation[] = [];
  let companyId = input.companyId ?? null;
  const branchId = input.branchId ?? null;
  if (input.role === "branch_admin") {
    if (branchId === null) v.push({ field: "branchId", rule: "branchId.required", message: "A branch admin needs a branch." });
    else {
      const [b] = /^[0-9a-f-]{36}$/i.test(branchId) ? await db.select({ companyId: branches.companyId }).from(branches).where(eq(branches.id, branchId)) : [];
      if (b === undefined)
        throw new KsefCertsError("NOT_FOUND", msg("users.branchNotFound", { id: JSON.stringify(branchId) }), { details: { entity: "branch", id: branchId } });
      if (companyId !== null && companyId !== b.companyId) v.push(violation("companyId", "companyId.branch"));
      companyId = b.companyId;
    }
  } else if (branchId !== null) v.push(violation("branchId", "branchId.forbidden"));
  if (input.role === "company_admin" && companyId === null)
    v.push({ field: "companyId", rule: "companyId.required", message: "A company admin needs a company." });
  if (input.role === "super_admin" && companyId !== null) v.push(violation("companyId", "companyId.forbidden"));
  if (!["super_admin", "company_admin", "branch_admin", "auditor"].includes(input.role))
    v.push({ field: "role", rule: "role.known", message: "Unknown role." });
  if (v.length > 0) throw new KsefCertsError("VALIDATION", msg("users.grant.invalid", { reasons: v.map((x) => x.message).join(" ") }), { violations: v });
  if (companyId !== null && input.role !== "branch_admin") {
    const [c] = /^[0-9a-f-]{36}$/i.test(companyId) ? await db.select({ id: companies.id }).from(companies).where(eq(companies.id, companyId)) : [];
    if (c === undefined)
      throw new KsefCertsError("NOT_FOUND", msg("users.companyNotFound", { id: JSON.stringify(companyId) }), { details: { entity: "company", id: companyId } });
  }
  return { role: input.role, companyId, branchId };
}

function sameGrant(g: RoleGrant) {
  return and(
    eq(userRoles.role, g.role),
    g.companyId === null ? isNull(userRoles.companyId) : eq(userRoles.companyId, g.companyId),
    g.branchId === null ? isNull(userRoles.branchId) : eq(userRoles.branchId, g.branchId),
  );
}

/**
 * Grants a role over a scope (idempotent: an identical grant is not duplicated).
 * @param db the database
 * @param input account, role, company/branch
 * @param meta actor and clock
 * @returns the grant and whether it was added
 * @throws {KsefCertsError} VALIDATION for a role without its scope; NOT_FOUND for an unknown account, company or branch
 */
export async function grantRole(db: Db, input: RoleGrantInput, meta: ChangeMeta): Promise<{ readonly grant: RoleGrant; readonly added: boolean }> {
  const at = meta.at ?? new Date();
  return inTransaction(db, async (tx) => {
    await getUser(tx, input.userId);
    const grant = await normalizeGrant(tx, input);
    const [existing] = await tx
      .select({ id: userRoles.id })
      .from(userRoles)
      .where(and(eq(userRoles.userId, input.userId), sameGrant(grant)));
    if (existing !== undefined) return { grant, added: false };
    await tx.insert(userRoles).values({ userId: input.userId, ...grant, createdAt: at });
    await appendAudit(tx, { actor: meta.actor, action: "user.grant", entityType: "user", entityId: input.userId, after: grant, at });
    return { grant, added: true };
  });
}

/**
 * Revokes a grant; the account's sessions end so the change applies at once.
 * @param db the database
 * @param input account, role, company/branch (as granted)
 * @param meta actor and clock
 * @returns whether a grant was removed
 * @throws {KsefCertsError} NOT_FOUND for an unknown account; VALIDATION for a role without its scope
 */
export async function revokeRole(db: Db, input: RoleGrantInput, meta: ChangeMeta): Promise<{ readonly removed: boolean }> {
  const at = meta.at ?? new Date();
  return inTransaction(db, async (tx) => {
    await getUser(tx, input.userId);
    const grant = await normalizeGrant(tx, input);
    const removed = await tx
      .delete(userRoles)
      .where(and(eq(userRoles.userId, input.userId), sameGrant(grant)))
      .returning({ id: userRoles.id });
    if (removed.length === 0) return { removed: false };
    await tx.delete(webSessions).where(eq(webSessions.userId, input.userId));
    await appendAudit(tx, { actor: meta.actor, action: "user.revoke", entityType: "user", entityId: input.userId, before: grant, at });
    return { removed: true };
  });
}

/**
 * Sets the account's UI language.
 * @param db the database
 * @param userId account id
 * @param locale `pl` or `en`
 * @throws {KsefCertsError} VALIDATION for another locale
 */
export async function setUserLocale(db: Db, userId: string, locale: "pl" | "en"): Promise<void> {
  if (!LOCALES.includes(locale))
    throw new KsefCertsError("VALIDATION", msg("users.locale.known"), {
      violations: [violation("locale", "locale.known")],
    });
  await db.update(users).set({ locale, updatedAt: new Date() }).where(eq(users.id, userId));
}

/**
 * Changes the account's password after checking the current one; ends every other session of the account.
 * @param db the database
 * @param input account id, current and next password, the session to keep (SHA-256 hex), if any
 * @param meta actor and clock
 * @throws {KsefCertsError} WRONG_PASSWORD when `current` is wrong (violation on field `current`); VALIDATION for a weak `next`
 */
export async function changePassword(
  db: Db,
  input: { readonly userId: string; readonly current: string; readonly next: string; readonly keepSessionHash?: string },
  meta: ChangeMeta,
): Promise<void> {
  const [row] = await db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, input.userId));
  if (row === undefined || !(await verifyPassword(input.current, row.passwordHash))) {
    throw new KsefCertsError("WRONG_PASSWORD", msg("users.currentPasswordWrong"), {
      violations: [{ field: "current", rule: "current.wrong", message: "The current password is wrong." }],
    });
  }
  const v = checkAccountPassword(input.next, "next");
  if (v.length > 0)
    throw new KsefCertsError("VALIDATION", msg("password.accountLength", { min: MIN_ACCOUNT_PASSWORD_CHARS, max: MAX_PASSWORD_CHARS }), { violations: v });
  const passwordHash = await hashPassword(input.next);
  const at = meta.at ?? new Date();
  await inTransaction(db, async (tx) => {
    await tx.update(users).set({ passwordHash, updatedAt: at }).where(eq(users.id, input.userId));
    const sessions = await tx.select({ tokenHash: webSessions.tokenHash }).from(webSessions).where(eq(webSessions.userId, input.userId));
    for (const s of sessions) if (s.tokenHash !== input.keepSessionHash) await tx.delete(webSessions).where(eq(webSessions.tokenHash, s.tokenHash));
    await appendAudit(tx, { actor: meta.actor, action: "user.changePassword", entityType: "user", entityId: input.userId, at });
  });
}

/** The companies whose accounts a principal manages: every company (super-admin) or those it is company admin of. */
type AccountReach = { readonly all: true } | { readonly all: false; readonly companies: ReadonlySet<string> };

function reachOf(principal: Principal): AccountReach {
  if (principal.roles.some((g) => g.role === "super_admin")) return { all: true };
  const companies = new Set<string>();
  for (const g of principal.roles) if (g.role === "company_admin" && g.companyId !== null) companies.add(g.companyId);
  if (companies.size === 0) throw new KsefCertsError("FORBIDDEN", msg("users.noManage"), { details: { reason: "role" } });
  return { all: false, companies };
}

function hiddenUser(id: string): KsefCertsError {
  return new KsefCertsError("NOT_FOUND", msg("users.notFound", { id: JSON.stringify(id) }), { details: { entity: "user", id } });
}

/**
 * The account as a company admin sees it: its roles over the admin's companies and over every company; undefined
 * when it holds no role in them (another company's account, or one without roles).
 */
function seenBy(reach: AccountReach, u: UserWithRoles): UserWithRoles | undefined {
  if (reach.all) return u;
  if (!u.roles.some((r) => r.companyId !== null && reach.companies.has(r.companyId))) return undefined;
  return { ...u, roles: u.roles.filter((r) => r.companyId === null || reach.companies.has(r.companyId)) };
}

/**
 * Checks the principal may grant or revoke this role over this scope, before anything about the scope is revealed:
 * an unknown or unreadable branch or company answers NOT_FOUND like a made-up id.
 */
async function authorizeGrant(db: Db, principal: Principal, reach: AccountReach, input: RoleGrantInput): Promise<void> {
  if (reach.all) return;
  if (input.role === "super_admin") throw new KsefCertsError("FORBIDDEN", msg("users.superAdminOnly.grantSuperAdmin"), { details: { reason: "role" } });
  let companyId = input.companyId ?? null;
  const branchId = input.branchId ?? null;
  if (input.role === "branch_admin" && branchId !== null) {
    const scope = await scopeOfEntity(db, "branch", branchId);
    if (scope.kind === "global" || !canRead(principal, scope)) throw hiddenEntity("branch", branchId);
    companyId = scope.companyId;
  }
  if (companyId === null) throw new KsefCertsError("FORBIDDEN", msg("users.superAdminOnly.grantAllCompanies"), { details: { reason: "role" } });
  if (reach.companies.has(companyId)) return;
  if (!canRead(principal, { kind: "company", companyId })) throw hiddenEntity("company", companyId);
  throw new KsefCertsError("FORBIDDEN", msg("users.otherCompany"), {
    hint: msg("users.otherCompany.hint"),
    details: { reason: "role" },
  });
}

/** Checks the principal may change this account's roles (see the module comment); NOT_FOUND when it may not see it. */
function authorizeTarget(principal: Principal, reach: AccountReach, target: UserWithRoles, change: "grant" | "revoke"): void {
  if (seenBy(reach, target) === undefined) throw hiddenUser(target.id);
  if (change === "revoke" && target.id === principal.userId) {
    throw new KsefCertsError("FORBIDDEN", msg("users.ownRoles"), { hint: msg("users.ownRoles.hint"), details: { reason: "self" } });
  }
  if (!reach.all && target.roles.some((r) => r.companyId === null)) {
    throw new KsefCertsError("FORBIDDEN", msg("users.superAdminOnly.changeAllCompanies"), {
      details: { reason: "role" },
    });
  }
}

/**
 * The accounts the principal manages, by login, each with the roles it may see (see the module comment).
 * @param db the database
 * @param principal the signed-in account
 * @throws {KsefCertsError} FORBIDDEN for a principal that manages no accounts (branch admin, auditor)
 */
export async function listUsersAs(db: Db, principal: Principal): Promise<UserWithRoles[]> {
  const reach = reachOf(principal);
  return (await listUsers(db)).flatMap((u) => seenBy(reach, u) ?? []);
}

/**
 * One account as the principal sees it.
 * @param db the database
 * @param principal the signed-in account
 * @param id account id
 * @throws {KsefCertsError} FORBIDDEN for a principal that manages no accounts; NOT_FOUND for an unknown account or
 *   one the principal may not see (the same answer)
 */
export async function getUserAs(db: Db, principal: Principal, id: string): Promise<UserWithRoles> {
  const reach = reachOf(principal);
  const seen = seenBy(reach, await getUser(db, id));
  if (seen === undefined) throw hiddenUser(id);
  return seen;
}

/**
 * {@link createUser} on behalf of a signed-in account: the first role is required unless the principal is a
 * super-admin, and must be one the principal may grant.
 * @param db the database
 * @param principal the signed-in account
 * @param input as {@link createUser}
 * @param meta actor and clock
 * @returns the account as the principal sees it
 * @throws {KsefCertsError} FORBIDDEN or NOT_FOUND when the principal may not grant the role; as {@link createUser}
 */
export async function createUserAs(db: Db, principal: Principal, input: CreateUserInput, meta: ChangeMeta): Promise<UserWithRoles> {
  const reach = reachOf(principal);
  if (input.role === undefined) {
    if (!reach.all) throw new KsefCertsError("FORBIDDEN", msg("users.superAdminOnly.noRole"), { details: { reason: "role" } });
  } else await authorizeGrant(db, principal, reach, { userId: "", ...input.role });
  const created = await createUser(db, input, meta);
  return seenBy(reach, created) ?? created;
}

/**
 * {@link grantRole} on behalf of a signed-in account (see the module comment for who may grant what to whom).
 * @param db the database
 * @param principal the signed-in account
 * @param input account, role, company/branch
 * @param meta actor and clock
 * @throws {KsefCertsError} FORBIDDEN when the principal may not grant the role or change the account; NOT_FOUND
 *   for an account, company or branch it may not see; as {@link grantRole}
 */
export async function grantRoleAs(
  db: Db,
  principal: Principal,
  input: RoleGrantInput,
  meta: ChangeMeta,
): Promise<{ readonly grant: RoleGrant; readonly added: boolean }> {
  const reach = reachOf(principal);
  return inTransaction(db, async (tx) => {
    await authorizeGrant(tx, principal, reach, input);
    authorizeTarget(principal, reach, await getUser(tx, input.userId), "grant");
    return grantRole(tx, input, meta);
  });
}

/**
 * {@link revokeRole} on behalf of a signed-in account (see the module comment: never one's own roles).
 * @param db the database
 * @param principal the signed-in account
 * @param input account, role, company/branch (as granted)
 * @param meta actor and clock
 * @throws {KsefCertsError} FORBIDDEN when the principal may not revoke the role or change the account, or it is
 *   its own; NOT_FOUND for an account, company or branch it may not see; as {@link revokeRole}
 */
export async function revokeRoleAs(db: Db, principal: Principal, input: RoleGrantInput, meta: ChangeMeta): Promise<{ readonly removed: boolean }> {
  const reach = reachOf(principal);
  return inTransaction(db, async (tx) => {
    await authorizeGrant(tx, principal, reach, input);
    authorizeTarget(principal, reach, await getUser(tx, input.userId), "revoke");
    return revokeRole(tx, input, meta);
  });
}
