/**
 * Local accounts of the admin app and their role grants (issue 5 §2). Logins are stored lower-case;
 * passwords only as scrypt hashes (`password.ts`); every change has its audit entry in the same transaction.
 */
import { and, asc, eq, isNull } from "drizzle-orm";
import { KsefCertsError, type Violation } from "../errors.js";
import { appendAudit } from "../store/audit.js";
import type { Db } from "../store/db.js";
import { branches, companies, userRoles, users, webSessions } from "../store/schema.js";
import { inTransaction, isUniqueViolation, type ChangeMeta } from "../registry/internal.js";
import { hashPassword, MAX_PASSWORD_CHARS, verifyPassword } from "./password.js";
import type { Role, RoleGrant } from "./rules.js";

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

const userColumns = { id: users.id, login: users.login, displayName: users.displayName, locale: users.locale, disabledAt: users.disabledAt, createdAt: users.createdAt };

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
  if (!LOGIN.test(login)) v.push({ field: "login", rule: "login.format", message: "The login must have 2 to 64 characters: letters, digits, '.', '_', '@' or '-'." });
  const displayName = typeof input.displayName === "string" ? input.displayName.trim() : "";
  if (displayName.length === 0 || Array.from(displayName).length > 200) {
    v.push({ field: "displayName", rule: "displayName.length", message: "The display name must have 1 to 200 characters.", params: { min: 1, max: 200 } });
  }
  v.push(...checkAccountPassword(input.password));
  if (input.locale !== undefined && !LOCALES.includes(input.locale)) v.push({ field: "locale", rule: "locale.known", message: "The locale must be pl or en." });
  if (v.length > 0) throw new KsefCertsError("VALIDATION", `The account cannot be created: ${v.map((x) => x.message).join(" ")}`, { violations: v });
  const passwordHash = await hashPassword(input.password);
  const at = meta.at ?? new Date();
  try {
    return await inTransaction(db, async (tx) => {
      const [row] = await tx
        .insert(users)
        .values({ login, displayName, passwordHash, locale: input.locale ?? "pl", createdAt: at, updatedAt: at })
        .returning(userColumns);
      if (row === undefined) throw new KsefCertsError("INTERNAL", "The account insert returned no row.");
      await appendAudit(tx, { actor: meta.actor, action: "user.create", entityType: "user", entityId: row.id, after: { login, displayName, locale: row.locale }, at });
      if (input.role !== undefined) {
        await grantRole(tx, { userId: row.id, role: input.role.role, companyId: input.role.companyId ?? null, branchId: input.role.branchId ?? null }, meta);
      }
      return getUser(tx, row.id);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new KsefCertsError("CONFLICT", `The login ${login} is taken.`, { violations: [{ field: "login", rule: "login.unique", message: "This login is taken." }] });
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
  if (row === undefined) throw new KsefCertsError("NOT_FOUND", `No account with id ${JSON.stringify(id)}.`, { details: { entity: "user", id } });
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
  const grants = await db.select({ id: userRoles.id, userId: userRoles.userId, role: userRoles.role, companyId: userRoles.companyId, branchId: userRoles.branchId }).from(userRoles);
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
      if (b === undefined) throw new KsefCertsError("NOT_FOUND", `No branch with id ${JSON.stringify(branchId)}.`, { details: { entity: "branch", id: branchId } });
      if (companyId !== null && companyId !== b.companyId) v.push({ field: "companyId", rule: "companyId.branch", message: "The branch belongs to another company." });
      companyId = b.companyId;
    }
  } else if (branchId !== null) v.push({ field: "branchId", rule: "branchId.forbidden", message: "Only a branch admin has a branch." });
  if (input.role === "company_admin" && companyId === null) v.push({ field: "companyId", rule: "companyId.required", message: "A company admin needs a company." });
  if (input.role === "super_admin" && companyId !== null) v.push({ field: "companyId", rule: "companyId.forbidden", message: "A super-admin has no company." });
  if (!["super_admin", "company_admin", "branch_admin", "auditor"].includes(input.role)) v.push({ field: "role", rule: "role.known", message: "Unknown role." });
  if (v.length > 0) throw new KsefCertsError("VALIDATION", `The role cannot be granted: ${v.map((x) => x.message).join(" ")}`, { violations: v });
  if (companyId !== null && input.role !== "branch_admin") {
    const [c] = /^[0-9a-f-]{36}$/i.test(companyId) ? await db.select({ id: companies.id }).from(companies).where(eq(companies.id, companyId)) : [];
    if (c === undefined) throw new KsefCertsError("NOT_FOUND", `No company with id ${JSON.stringify(companyId)}.`, { details: { entity: "company", id: companyId } });
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
    const [existing] = await tx.select({ id: userRoles.id }).from(userRoles).where(and(eq(userRoles.userId, input.userId), sameGrant(grant)));
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
    const removed = await tx.delete(userRoles).where(and(eq(userRoles.userId, input.userId), sameGrant(grant))).returning({ id: userRoles.id });
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
  if (!LOCALES.includes(locale)) throw new KsefCertsError("VALIDATION", "The locale must be pl or en.", { violations: [{ field: "locale", rule: "locale.known", message: "The locale must be pl or en." }] });
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
    throw new KsefCertsError("WRONG_PASSWORD", "The current password is wrong.", { violations: [{ field: "current", rule: "current.wrong", message: "The current password is wrong." }] });
  }
  const v = checkAccountPassword(input.next, "next");
  if (v.length > 0) throw new KsefCertsError("VALIDATION", v.map((x) => x.message).join(" "), { violations: v });
  const passwordHash = await hashPassword(input.next);
  const at = meta.at ?? new Date();
  await inTransaction(db, async (tx) => {
    await tx.update(users).set({ passwordHash, updatedAt: at }).where(eq(users.id, input.userId));
    const sessions = await tx.select({ tokenHash: webSessions.tokenHash }).from(webSessions).where(eq(webSessions.userId, input.userId));
    for (const s of sessions) if (s.tokenHash !== input.keepSessionHash) await tx.delete(webSessions).where(eq(webSessions.tokenHash, s.tokenHash));
    await appendAudit(tx, { actor: meta.actor, action: "user.changePassword", entityType: "user", entityId: input.userId, at });
  });
}
