import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { rejection } from "@ksef-certs/ksef/testing";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { addBranch, addCompany } from "../registry/organisation.js";
import { verifyAuditLog } from "../store/audit.js";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import type { Db } from "../store/db.js";
import { auditLog, userRoles, users, webSessions } from "../store/schema.js";
import { hashPassword } from "./password.js";
import type { Principal, Role } from "./rules.js";
import { authenticate, loadPrincipal, sessionFromToken } from "./sessions.js";
import { createUserAs, getUser, getUserAs, grantRole, grantRoleAs, listUsersAs, revokeRoleAs, type RoleGrantInput } from "./users.js";

const T0 = new Date("2026-03-01T12:00:00Z");
const META = { actor: "test", at: T0 };
const PASSWORD = "Dlugie-haslo-admina-1";
const GUESSED = "3f2b8c1e-9d4a-4e6b-8f00-123456789abc";

/** The code of the KsefCertsError `p` rejects with, or "OK". */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (err) {
    if (err instanceof KsefCertsError) return err.code;
    throw err;
  }
}

let passwordHash: string | undefined;

type Grant = { role: Role; companyId?: string | null; branchId?: string | null };

/**
 * Companies A and B; branches A1, A2 of A and B1 of B; accounts of every role, a super-admin who is also company
 * admin of A, an accounting office's account (company admin of A and of B), a mixed account (branch admin of A1 and
 * company admin of B), plain members of A and of B, and an account without roles.
 */
async function world(db: Db) {
  await db.execute(sql`TRUNCATE users, login_throttle, web_sessions CASCADE`);
  const a = await addCompany(db, { nip: "5265877635", name: "Firma A" }, META);
  const b = await addCompany(db, { nip: "7740001454", name: "Firma B" }, META);
  const a1 = await addBranch(db, { companyId: a.id, code: "A1", name: "Oddział A1" }, META);
  const a2 = await addBranch(db, { companyId: a.id, code: "A2", name: "Oddział A2" }, META);
  const b1 = await addBranch(db, { companyId: b.id, code: "B1", name: "Oddział B1" }, META);
  // One scrypt hash for every account: hashing fifteen passwords per test would be most of its time.
  passwordHash ??= await hashPassword(PASSWORD);
  const hash = passwordHash;
  const account = async (login: string, ...grants: Grant[]): Promise<string> => {
    const [u] = await db.insert(users).values({ login, displayName: login, passwordHash: hash, createdAt: T0, updatedAt: T0 }).returning({ id: users.id });
    if (u === undefined) throw new Error("no user row");
    for (const g of grants) await grantRole(db, { userId: u.id, ...g }, META);
    return u.id;
  };
  const ids = {
    super: await account("super", { role: "super_admin" }),
    super2: await account("super2", { role: "super_admin" }),
    superInA: await account("super-in-a", { role: "super_admin" }, { role: "company_admin", companyId: a.id }),
    adminA: await account("admin-a", { role: "company_admin", companyId: a.id }),
    adminA2: await account("admin-a2", { role: "company_admin", companyId: a.id }),
    adminB: await account("admin-b", { role: "company_admin", companyId: b.id }),
    branchA1: await account("branch-a1", { role: "branch_admin", branchId: a1.id }),
    auditorA: await account("auditor-a", { role: "auditor", companyId: a.id }),
    auditorAll: await account("auditor-all", { role: "auditor" }),
    auditorAllInA: await account("auditor-all-in-a", { role: "auditor" }, { role: "auditor", companyId: a.id }),
    office: await account("office", { role: "company_admin", companyId: a.id }, { role: "company_admin", companyId: b.id }),
    mixed: await account("mixed", { role: "branch_admin", branchId: a1.id }, { role: "company_admin", companyId: b.id }),
    memberA: await account("member-a", { role: "auditor", companyId: a.id }),
    memberB: await account("member-b", { role: "auditor", companyId: b.id }),
    roleless: await account("roleless"),
  };
  const principal = async (id: string): Promise<Principal> => {
    const p = await loadPrincipal(db, id);
    if (p === undefined) throw new Error(`no principal ${id}`);
    return p;
  };
  return { a, b, a1, a2, b1, ids, principal };
}

/** Everything an attempt could change: the role grants, the sessions and the audit log. */
async function snapshot(db: Db): Promise<string> {
  const roles = await db.select().from(userRoles);
  const sessions = await db.select({ tokenHash: webSessions.tokenHash }).from(webSessions);
  const audit = await db.select({ seq: auditLog.seq }).from(auditLog);
  return JSON.stringify([roles.map((r) => r.id).sort(), sessions.map((s) => s.tokenHash).sort(), audit.length]);
}

describeEachDb("access: who manages which accounts", (ctx) => {
  it.each(["branchA1", "auditorA", "auditorAll"] as const)("%s manages no account: every account use case is FORBIDDEN, nothing changes", async (who) => {
    const { db } = ctx();
    const w = await world(db);
    const p = await w.principal(w.ids[who]);
    const before = await snapshot(db);
    const attempts: [string, () => Promise<unknown>][] = [
      ["list", () => listUsersAs(db, p)],
      ["get member", () => getUserAs(db, p, w.ids.memberA)],
      ["get self", () => getUserAs(db, p, p.userId)],
      [
        "create in A",
        () => createUserAs(db, p, { login: "nowy", displayName: "Nowy", password: PASSWORD, role: { role: "auditor", companyId: w.a.id } }, META),
      ],
      [
        "create in own branch",
        () => createUserAs(db, p, { login: "nowy", displayName: "Nowy", password: PASSWORD, role: { role: "branch_admin", branchId: w.a1.id } }, META),
      ],
      ["grant own branch", () => grantRoleAs(db, p, { userId: w.ids.memberA, role: "branch_admin", branchId: w.a1.id }, META)],
      ["grant auditor of A", () => grantRoleAs(db, p, { userId: w.ids.memberA, role: "auditor", companyId: w.a.id }, META)],
      ["grant self super-admin", () => grantRoleAs(db, p, { userId: p.userId, role: "super_admin" }, META)],
      ["revoke member", () => revokeRoleAs(db, p, { userId: w.ids.memberA, role: "auditor", companyId: w.a.id }, META)],
    ];
    const codes = await Promise.all(attempts.map(async ([what, run]) => [what, await outcome(run())]));
    expect(codes).toEqual(attempts.map(([what]) => [what, "FORBIDDEN"]));
    expect(await snapshot(db)).toBe(before);
  });

  it("a company admin is refused every grant and revoke outside its company's roles, and each refusal changes nothing", async () => {
    const { db } = ctx();
    const w = await world(db);
    const superSession = await authenticate(db, { login: "super-in-a", password: PASSWORD, clientKey: "t", at: T0 });
    const adminA = await w.principal(w.ids.adminA);
    const mixed = await w.principal(w.ids.mixed);
    const superAdmin = await w.principal(w.ids.super);
    const cases: { what: string; by: Principal; change: "grant" | "revoke"; input: RoleGrantInput; expected: string; superAdminMay: boolean }[] = [
      {
        what: "grant super-admin",
        by: adminA,
        change: "grant",
        input: { userId: w.ids.memberA, role: "super_admin" },
        expected: "FORBIDDEN",
        superAdminMay: true,
      },
      {
        what: "grant auditor of every company",
        by: adminA,
        change: "grant",
        input: { userId: w.ids.memberA, role: "auditor" },
        expected: "FORBIDDEN",
        superAdminMay: true,
      },
      {
        what: "grant company admin of another company",
        by: adminA,
        change: "grant",
        input: { userId: w.ids.memberA, role: "company_admin", companyId: w.b.id },
        expected: "NOT_FOUND",
        superAdminMay: true,
      },
      {
        what: "grant auditor of another company",
        by: adminA,
        change: "grant",
        input: { userId: w.ids.memberA, role: "auditor", companyId: w.b.id },
        expected: "NOT_FOUND",
        superAdminMay: true,
      },
      {
        what: "grant branch admin of another company's branch",
        by: adminA,
        change: "grant",
        input: { userId: w.ids.memberA, role: "branch_admin", branchId: w.b1.id },
        expected: "NOT_FOUND",
        superAdminMay: true,
      },
      {
        what: "grant another company's branch, claiming its own company",
        by: adminA,
        change: "grant",
        input: { userId: w.ids.memberA, role: "branch_admin", companyId: w.a.id, branchId: w.b1.id },
        expected: "NOT_FOUND",
        superAdminMay: false,
      },
      {
        what: "grant a role in a company that does not exist",
        by: adminA,
        change: "grant",
        input: { userId: w.ids.memberA, role: "auditor", companyId: GUESSED },
        expected: "NOT_FOUND",
        superAdminMay: false,
      },
      {
        what: "grant its company to another company's account",
        by: adminA,
        change: "grant",
        input: { userId: w.ids.memberB, role: "auditor", companyId: w.a.id },
        expected: "NOT_FOUND",
        superAdminMay: true,
      },
      {
        what: "grant its company to an account without roles",
        by: adminA,
        change: "grant",
        input: { userId: w.ids.roleless, role: "auditor", companyId: w.a.id },
        expected: "NOT_FOUND",
        superAdminMay: true,
      },
      {
        what: "grant its company to a guessed account",
        by: adminA,
        change: "grant",
        input: { userId: GUESSED, role: "auditor", companyId: w.a.id },
        expected: "NOT_FOUND",
        superAdminMay: false,
      },
      {
        what: "grant its company to a super-admin",
        by: adminA,
        change: "grant",
        input: { userId: w.ids.superInA, role: "auditor", companyId: w.a.id },
        expected: "FORBIDDEN",
        superAdminMay: true,
      },
      {
        what: "revoke a super-admin's role in its company",
        by: adminA,
        change: "revoke",
        input: { userId: w.ids.superInA, role: "company_admin", companyId: w.a.id },
        expected: "FORBIDDEN",
        superAdminMay: true,
      },
      {
        what: "revoke a super-admin's super-admin",
        by: adminA,
        change: "revoke",
        input: { userId: w.ids.superInA, role: "super_admin" },
        expected: "FORBIDDEN",
        superAdminMay: true,
      },
      {
        what: "revoke an auditor of every company's role in its company",
        by: adminA,
        change: "revoke",
        input: { userId: w.ids.auditorAllInA, role: "auditor", companyId: w.a.id },
        expected: "FORBIDDEN",
        superAdminMay: true,
      },
      {
        what: "revoke its own role",
        by: adminA,
        change: "revoke",
        input: { userId: w.ids.adminA, role: "company_admin", companyId: w.a.id },
        expected: "FORBIDDEN",
        superAdminMay: true,
      },
      {
        what: "revoke another company's role of a shared account",
        by: adminA,
        change: "revoke",
        input: { userId: w.ids.office, role: "company_admin", companyId: w.b.id },
        expected: "NOT_FOUND",
        superAdminMay: true,
      },
      {
        what: "revoke another company's admin",
        by: adminA,
        change: "revoke",
        input: { userId: w.ids.adminB, role: "company_admin", companyId: w.b.id },
        expected: "NOT_FOUND",
        superAdminMay: true,
      },
      // Branch admin of A1 and company admin of B: its branch is readable, but A's accounts are not its to manage.
      {
        what: "grant its branch with a company admin role elsewhere",
        by: mixed,
        change: "grant",
        input: { userId: w.ids.memberA, role: "branch_admin", branchId: w.a1.id },
        expected: "FORBIDDEN",
        superAdminMay: true,
      },
      {
        what: "grant its branch to an account of its other company",
        by: mixed,
        change: "grant",
        input: { userId: w.ids.memberB, role: "branch_admin", branchId: w.a1.id },
        expected: "FORBIDDEN",
        superAdminMay: true,
      },
      {
        what: "grant A from company B's admin",
        by: mixed,
        change: "grant",
        input: { userId: w.ids.memberA, role: "auditor", companyId: w.a.id },
        expected: "FORBIDDEN",
        superAdminMay: true,
      },
      {
        what: "revoke a branch admin of its branch with a company admin role elsewhere",
        by: mixed,
        change: "revoke",
        input: { userId: w.ids.branchA1, role: "branch_admin", branchId: w.a1.id },
        expected: "FORBIDDEN",
        superAdminMay: true,
      },
      {
        what: "a super-admin revokes its own super-admin",
        by: superAdmin,
        change: "revoke",
        input: { userId: w.ids.super, role: "super_admin" },
        expected: "FORBIDDEN",
        superAdminMay: false,
      },
    ];
    const attempt = (by: Principal, change: "grant" | "revoke", input: RoleGrantInput): Promise<unknown> =>
      change === "grant" ? grantRoleAs(db, by, input, META) : revokeRoleAs(db, by, input, META);
    const before = await snapshot(db);
    const got: [string, string][] = [];
    for (const c of cases) got.push([c.what, await outcome(attempt(c.by, c.change, c.input))]);
    expect(got).toEqual(cases.map((c) => [c.what, c.expected]));
    expect(await snapshot(db)).toBe(before);
    expect(await sessionFromToken(db, superSession.token, T0)).toBeDefined();
    // A hidden account or scope answers exactly like one that does not exist.
    const hidden = await rejection(grantRoleAs(db, adminA, { userId: w.ids.memberB, role: "auditor", companyId: w.a.id }, META));
    const guessed = await rejection(grantRoleAs(db, adminA, { userId: GUESSED, role: "auditor", companyId: w.a.id }, META));
    expect(hidden.message.replace(w.ids.memberB, GUESSED)).toBe(guessed.message);
    const hiddenCompany = await rejection(grantRoleAs(db, adminA, { userId: w.ids.memberA, role: "auditor", companyId: w.b.id }, META));
    const noCompany = await rejection(grantRoleAs(db, adminA, { userId: w.ids.memberA, role: "auditor", companyId: GUESSED }, META));
    expect(hiddenCompany.message.replace(w.b.id, GUESSED)).toBe(noCompany.message);
    // The same changes are valid ones: a super-admin makes them (so the refusals above are about who asks).
    for (const c of cases.filter((x) => x.superAdminMay)) expect([c.what, await outcome(attempt(superAdmin, c.change, c.input))]).toEqual([c.what, "OK"]);
    expect((await verifyAuditLog(db)).ok).toBe(true);
  });

  it("a company admin grants and revokes the roles of its company, on its company's accounts only", async () => {
    const { db } = ctx();
    const w = await world(db);
    const adminA = await w.principal(w.ids.adminA);
    const memberSession = await authenticate(db, { login: "member-a", password: PASSWORD, clientKey: "t", at: T0 });
    const [{ n: auditBefore } = { n: 0 }] = await db.select({ n: sql<number>`count(*)::int` }).from(auditLog);
    expect(await grantRoleAs(db, adminA, { userId: w.ids.memberA, role: "branch_admin", branchId: w.a2.id }, META)).toEqual({
      grant: { role: "branch_admin", companyId: w.a.id, branchId: w.a2.id },
      added: true,
    });
    expect(await revokeRoleAs(db, adminA, { userId: w.ids.memberA, role: "auditor", companyId: w.a.id }, META)).toEqual({ removed: true });
    // Revoking ends the account's sessions.
    expect(await sessionFromToken(db, memberSession.token, T0)).toBeUndefined();
    // A peer company admin, and the accounting office's role in A (its role in B stays).
    expect(await revokeRoleAs(db, adminA, { userId: w.ids.adminA2, role: "company_admin", companyId: w.a.id }, META)).toEqual({ removed: true });
    expect(await revokeRoleAs(db, adminA, { userId: w.ids.office, role: "company_admin", companyId: w.a.id }, META)).toEqual({ removed: true });
    expect((await getUser(db, w.ids.office)).roles.map((r) => [r.role, r.companyId])).toEqual([["company_admin", w.b.id]]);
    // Now the office's account holds no role in A: it is B's account, out of A's reach.
    expect(await outcome(grantRoleAs(db, adminA, { userId: w.ids.office, role: "company_admin", companyId: w.a.id }, META))).toBe("NOT_FOUND");
    const created = await createUserAs(
      db,
      adminA,
      { login: "Nowa", displayName: "Nowa", password: PASSWORD, role: { role: "branch_admin", branchId: w.a1.id } },
      META,
    );
    expect(created.roles.map((r) => [r.role, r.companyId, r.branchId])).toEqual([["branch_admin", w.a.id, w.a1.id]]);
    const audit = await db.select({ action: auditLog.action, entityId: auditLog.entityId }).from(auditLog).orderBy(auditLog.seq);
    expect(audit.slice(auditBefore)).toEqual([
      { action: "user.grant", entityId: w.ids.memberA },
      { action: "user.revoke", entityId: w.ids.memberA },
      { action: "user.revoke", entityId: w.ids.adminA2 },
      { action: "user.revoke", entityId: w.ids.office },
      { action: "user.create", entityId: created.id },
      { action: "user.grant", entityId: created.id },
    ]);
    expect((await verifyAuditLog(db)).ok).toBe(true);
  });

  it("creating an account is refused for the roles its creator may not grant, before the account exists", async () => {
    const { db } = ctx();
    const w = await world(db);
    const adminA = await w.principal(w.ids.adminA);
    type CreateRole = Grant | undefined;
    const input = (role: CreateRole) => ({ login: "intruz", displayName: "Intruz", password: PASSWORD, ...(role === undefined ? {} : { role }) });
    const cases: [string, CreateRole, string][] = [
      ["super-admin", { role: "super_admin" }, "FORBIDDEN"],
      ["auditor of every company", { role: "auditor" }, "FORBIDDEN"],
      ["company admin of another company", { role: "company_admin", companyId: w.b.id }, "NOT_FOUND"],
      ["branch admin of another company's branch", { role: "branch_admin", branchId: w.b1.id }, "NOT_FOUND"],
      ["no role at all", undefined, "FORBIDDEN"],
    ];
    for (const [what, role, expected] of cases) expect([what, await outcome(createUserAs(db, adminA, input(role), META))]).toEqual([what, expected]);
    // Branch admin of A1 and company admin of B: a new branch admin of A1 is A's business, not its.
    expect(await outcome(createUserAs(db, await w.principal(w.ids.mixed), input({ role: "branch_admin", branchId: w.a1.id }), META))).toBe("FORBIDDEN");
    expect((await listUsersAs(db, await w.principal(w.ids.super))).map((u) => u.login)).not.toContain("intruz");
    await expect(createUserAs(db, await w.principal(w.ids.super), input({ role: "super_admin" }), META)).resolves.toMatchObject({ login: "intruz" });
  });

  it("lists and gets only the accounts a company admin manages, with only the roles it may see", async () => {
    const { db } = ctx();
    const w = await world(db);
    const adminA = await w.principal(w.ids.adminA);
    const seen = await listUsersAs(db, adminA);
    expect(seen.map((u) => u.login)).toEqual([
      "admin-a",
      "admin-a2",
      "auditor-a",
      "auditor-all-in-a",
      "branch-a1",
      "member-a",
      "mixed",
      "office",
      "super-in-a",
    ]);
    // Another company's grants of a shared account are not shown; roles over every company are.
    const roles = (login: string) =>
      seen
        .find((u) => u.login === login)
        ?.roles.map((r) => [r.role, r.companyId, r.branchId])
        .sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    expect(roles("office")).toEqual([["company_admin", w.a.id, null]]);
    expect(roles("mixed")).toEqual([["branch_admin", w.a.id, w.a1.id]]);
    expect(roles("super-in-a")).toEqual([
      ["company_admin", w.a.id, null],
      ["super_admin", null, null],
    ]);
    expect(JSON.stringify(seen)).not.toContain(w.b.id);
    expect((await getUserAs(db, adminA, w.ids.office)).roles).toHaveLength(1);
    for (const id of [w.ids.memberB, w.ids.adminB, w.ids.roleless, w.ids.super, w.ids.auditorAll, GUESSED, "not-a-uuid"])
      expect([id, await outcome(getUserAs(db, adminA, id))]).toEqual([id, "NOT_FOUND"]);
    // B's admin sees the shared accounts with their B roles only.
    const seenByB = await listUsersAs(db, await w.principal(w.ids.adminB));
    expect(seenByB.map((u) => u.login)).toEqual(["admin-b", "member-b", "mixed", "office"]);
    expect(JSON.stringify(seenByB)).not.toContain(w.a.id);
    // A super-admin sees every account, the one without roles too, with every role.
    const all = await listUsersAs(db, await w.principal(w.ids.super));
    expect(all).toHaveLength(Object.keys(w.ids).length);
    expect(all.find((u) => u.login === "office")?.roles).toHaveLength(2);
  });
});

describe("access: account management needs a role", () => {
  it("refuses a principal without roles before touching the database", async () => {
    const nobody: Principal = { userId: GUESSED, login: "x", displayName: "x", locale: "pl", roles: [] };
    const db = undefined as unknown as Db;
    for (const run of [
      () => listUsersAs(db, nobody),
      () => getUserAs(db, nobody, GUESSED),
      () => revokeRoleAs(db, nobody, { userId: GUESSED, role: "super_admin" }, META),
    ]) {
      expect(await outcome(run())).toBe("FORBIDDEN");
    }
  });
});
