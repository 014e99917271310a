import { afterEach, describe, expect, it } from "vitest";
import { authenticate, listUsers } from "../access/index.js";
import { listBranches, listOperators, listWorkstations } from "../registry/index.js";
import { openStore, type Store } from "../store/index.js";
import { createTestOrganisation } from "./index.js";

const META = { actor: "test", at: new Date("2026-11-30T10:00:00Z") };
const PASSWORD = "Bardzo-dlugie-haslo-1";

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

describe("createTestOrganisation", () => {
  it("creates the company, its branches with workstations, operators at their branches and accounts scoped by role", async () => {
    store = await openStore({ dataDir: ":memory:", env: {} });
    const org = await createTestOrganisation(
      store.db,
      {
        nip: "5265877635",
        name: "Firma",
        branches: [
          { code: "B1", name: "Oddział 1", workstations: [{ name: "kasa-1", outboxDir: "/tmp/o1", inboxDir: "/tmp/i1" }] },
          { code: "B2", name: "Oddział 2" },
        ],
        operators: [
          { name: "Jan", branchCodes: ["B1"] },
          { name: "Anna", branchCodes: ["B1", "B2"] },
        ],
        users: [
          { login: "super", password: PASSWORD, role: "super_admin" },
          { login: "firma-admin", password: PASSWORD, role: "company_admin" },
          { login: "b2-admin", password: PASSWORD, role: "branch_admin", branchCode: "B2" },
        ],
      },
      META,
    );
    const b1 = org.branches["B1"];
    const b2 = org.branches["B2"];
    expect(org.company.nip).toBe("5265877635");
    expect((await listBranches(store.db, org.company.id)).map((b) => b.code).sort()).toEqual(["B1", "B2"]);
    expect((await listWorkstations(store.db, { branchId: b1?.id ?? "" })).map((w) => w.id)).toEqual([org.workstations["kasa-1"]?.id]);
    expect((await listOperators(store.db, { branchId: b2?.id ?? "" })).map((o) => o.name)).toEqual(["Anna"]);
    expect((await listOperators(store.db, { branchId: b1?.id ?? "" })).map((o) => o.name).sort()).toEqual(["Anna", "Jan"]);
    const roles = Object.fromEntries((await listUsers(store.db)).map((u) => [u.login, u.roles.map((r) => [r.role, r.companyId, r.branchId])]));
    expect(roles).toEqual({
      super: [["super_admin", null, null]],
      "firma-admin": [["company_admin", org.company.id, null]],
      "b2-admin": [["branch_admin", org.company.id, b2?.id]],
    });
    const session = await authenticate(store.db, { login: "b2-admin", password: PASSWORD, clientKey: "test", at: META.at });
    expect(session.token.length).toBeGreaterThan(0);
  });

  it("refuses an operator at a branch the spec does not have", async () => {
    store = await openStore({ dataDir: ":memory:", env: {} });
    await expect(
      createTestOrganisation(store.db, { nip: "5265877635", name: "Firma", operators: [{ name: "Jan", branchCodes: ["B9"] }] }, META),
    ).rejects.toThrow("no branch B9");
  });
});
