import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "@ksef-certs/domain/access";
import type { Store } from "@ksef-certs/domain/store";
import { buildWorld, callerFor, DB_KINDS, openTestStore, PASSWORD, T0, trpcCode } from "../__fixtures__/world.js";
import type { ServerServices } from "../services.js";

const services: ServerServices = { clock: () => T0 };
const META = { actor: "test", at: T0 };

type Role = "superAdmin" | "companyAdmin" | "branchAdmin" | "auditor";
/** Every role of the fixtures, hostile ones first: the super-admin's successful changes come last. */
const ROLES: readonly Role[] = ["auditor", "branchAdmin", "companyAdmin", "superAdmin"];

for (const kind of DB_KINDS) {
  describe(`users router, every role [${kind}]`, () => {
    let store: Store;
    let w: Awaited<ReturnType<typeof buildWorld>>;
    const ids = { member: "", otherAdmin: "", superInCompany: "" };
    beforeAll(async () => {
      store = await openTestStore(kind);
      w = await buildWorld(store.db);
      ids.member = (
        await createUser(store.db, { login: "czlonek", displayName: "Członek", password: PASSWORD, role: { role: "auditor", companyId: w.company.id } }, META)
      ).id;
      ids.otherAdmin = (
        await createUser(
          store.db,
          { login: "inna-admin", displayName: "Inna", password: PASSWORD, role: { role: "company_admin", companyId: w.other.id } },
          META,
        )
      ).id;
      const superInCompany = await createUser(store.db, { login: "super2", displayName: "Super 2", password: PASSWORD, role: { role: "super_admin" } }, META);
      ids.superInCompany = superInCompany.id;
      await (
        await callerFor(store.db, services, w.sessions.superAdmin)
      ).caller.users.grant({ userId: ids.superInCompany, role: "company_admin", companyId: w.company.id });
    }, 120_000);
    afterAll(async () => {
      await store.close();
    });

    it("answers each account procedure per role: refusals come from the core use cases, mapped to FORBIDDEN or NOT_FOUND", async () => {
      type Call = (c: Awaited<ReturnType<typeof callerFor>>["caller"], role: Role) => Promise<unknown>;
      const table: { what: string; call: Call; expected: Record<Role, string> }[] = [
        { what: "list", call: (c) => c.users.list(), expected: { superAdmin: "OK", companyAdmin: "OK", branchAdmin: "FORBIDDEN", auditor: "FORBIDDEN" } },
        {
          what: "get another company's account",
          call: (c) => c.users.get({ id: ids.otherAdmin }),
          expected: { superAdmin: "OK", companyAdmin: "NOT_FOUND", branchAdmin: "FORBIDDEN", auditor: "FORBIDDEN" },
        },
        {
          what: "get a member of the company",
          call: (c) => c.users.get({ id: ids.member }),
          expected: { superAdmin: "OK", companyAdmin: "OK", branchAdmin: "FORBIDDEN", auditor: "FORBIDDEN" },
        },
        {
          what: "create a super-admin",
          call: (c, role) => c.users.create({ login: `nowy-super-${role.toLowerCase()}`, displayName: "Nowy", password: PASSWORD, role: "super_admin" }),
          expected: { superAdmin: "OK", companyAdmin: "FORBIDDEN", branchAdmin: "FORBIDDEN", auditor: "FORBIDDEN" },
        },
        {
          what: "create an admin of another company",
          call: (c, role) =>
            c.users.create({ login: `nowy-inna-${role.toLowerCase()}`, displayName: "Nowy", password: PASSWORD, role: "company_admin", companyId: w.other.id }),
          expected: { superAdmin: "OK", companyAdmin: "NOT_FOUND", branchAdmin: "FORBIDDEN", auditor: "FORBIDDEN" },
        },
        {
          what: "create a branch admin of the company's branch",
          call: (c, role) =>
            c.users.create({ login: `nowy-b2-${role.toLowerCase()}`, displayName: "Nowy", password: PASSWORD, role: "branch_admin", branchId: w.b2.id }),
          expected: { superAdmin: "OK", companyAdmin: "OK", branchAdmin: "FORBIDDEN", auditor: "FORBIDDEN" },
        },
        {
          what: "grant super-admin",
          call: (c) => c.users.grant({ userId: ids.member, role: "super_admin" }),
          expected: { superAdmin: "OK", companyAdmin: "FORBIDDEN", branchAdmin: "FORBIDDEN", auditor: "FORBIDDEN" },
        },
        {
          what: "grant auditor of every company",
          call: (c) => c.users.grant({ userId: ids.member, role: "auditor", companyId: null }),
          expected: { superAdmin: "OK", companyAdmin: "FORBIDDEN", branchAdmin: "FORBIDDEN", auditor: "FORBIDDEN" },
        },
        {
          what: "grant a role in another company",
          call: (c) => c.users.grant({ userId: ids.member, role: "company_admin", companyId: w.other.id }),
          expected: { superAdmin: "OK", companyAdmin: "NOT_FOUND", branchAdmin: "FORBIDDEN", auditor: "FORBIDDEN" },
        },
        {
          what: "grant its own branch",
          call: (c) => c.users.grant({ userId: ids.member, role: "branch_admin", branchId: w.b1.id }),
          expected: { superAdmin: "OK", companyAdmin: "OK", branchAdmin: "FORBIDDEN", auditor: "FORBIDDEN" },
        },
        {
          what: "revoke a super-admin's role in the company",
          call: (c) => c.users.revoke({ userId: ids.superInCompany, role: "company_admin", companyId: w.company.id }),
          expected: { superAdmin: "OK", companyAdmin: "FORBIDDEN", branchAdmin: "FORBIDDEN", auditor: "FORBIDDEN" },
        },
        {
          what: "revoke its own role",
          call: (c, role) => {
            const s = w.sessions[role];
            const [own] = s.principal.roles;
            return c.users.revoke({
              userId: s.principal.userId,
              role: own?.role ?? "auditor",
              companyId: own?.companyId ?? null,
              branchId: own?.branchId ?? null,
            });
          },
          expected: { superAdmin: "FORBIDDEN", companyAdmin: "FORBIDDEN", branchAdmin: "FORBIDDEN", auditor: "FORBIDDEN" },
        },
      ];
      const got: string[][] = [];
      const want: string[][] = [];
      for (const role of ROLES) {
        const { caller } = await callerFor(store.db, services, w.sessions[role]);
        for (const row of table) {
          got.push([role, row.what, await trpcCode(row.call(caller, role))]);
          want.push([role, row.what, row.expected[role]]);
        }
      }
      expect(got).toEqual(want);
      // The refused creations left no account behind; the allowed ones exist.
      const { caller } = await callerFor(store.db, services, w.sessions.superAdmin);
      const logins = (await caller.users.list()).map((u) => u.login).filter((l) => l.startsWith("nowy-"));
      expect(logins.sort()).toEqual(["nowy-b2-companyadmin", "nowy-b2-superadmin", "nowy-inna-superadmin", "nowy-super-superadmin"]);
    });

    it("a company admin's list holds its company's accounts only, without another company's grants", async () => {
      // A member of both companies: the other company's grant must not show.
      await (await callerFor(store.db, services, w.sessions.superAdmin)).caller.users.grant({ userId: ids.member, role: "auditor", companyId: w.other.id });
      const { caller } = await callerFor(store.db, services, w.sessions.companyAdmin);
      const listed = await caller.users.list();
      expect(listed.map((u) => u.login)).not.toContain("inna-admin");
      expect(listed.map((u) => u.login)).toEqual(expect.arrayContaining(["firma-admin", "b1-admin", "audytor", "czlonek"]));
      expect(JSON.stringify(listed)).not.toContain(w.other.id);
      expect(listed.every((u) => u.roles.every((r) => r.companyId === null || r.companyId === w.company.id))).toBe(true);
    });
  });
}
