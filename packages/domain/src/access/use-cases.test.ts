import { beforeAll, expect, it } from "vitest";
import { rejection } from "@ksef-certs/ksef/testing";
import { createPairingCode, listWorkstationTokens, pairWorkstation } from "../agent/pairing.js";
import { DAY, testCertificate, testKey, type TestKey } from "../registry/__fixtures__/certs.js";
import { recordCertificate } from "../registry/certificates.js";
import { addBranch, addCompany, addOperator, addWorkstation } from "../registry/organisation.js";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import type { Db } from "../store/db.js";
import { enrollments } from "../store/schema.js";
import { getEnrollmentAs, listEnrollmentsAs } from "./enrollments.js";
import { addBranchAs, addOperatorAs, assignOperatorToBranchAs } from "./organisation.js";
import { assignCertificateAs, resolveCertificateAs } from "./registry.js";
import { canRead, heldScope, type Principal } from "./rules.js";
import { createPairingCodeAs, revokeWorkstationTokenAs } from "./workstations.js";

const T0 = new Date("2026-03-01T12:00:00Z");
const META = { actor: "test", at: T0 };
let key: TestKey;
beforeAll(async () => {
  key = await testKey();
});

const as = (roles: Principal["roles"]): Principal => ({ userId: "u", login: "u", displayName: "U", locale: "en", roles });

/** Two companies; the first with branches B1 (Jan) and B2 (Anna), a workstation at each, and an enrollment per scope. */
async function world(db: Db) {
  const company = await addCompany(db, { nip: "5265877635", name: "Firma" }, META);
  const other = await addCompany(db, { nip: "7740001454", name: "Inna" }, META);
  const b1 = await addBranch(db, { companyId: company.id, code: "B1", name: "Kraków" }, META);
  const b2 = await addBranch(db, { companyId: company.id, code: "B2", name: "Gdańsk" }, META);
  const ob = await addBranch(db, { companyId: other.id, code: "X1", name: "Obca" }, META);
  const jan = await addOperator(db, { companyId: company.id, name: "Jan", branchIds: [b1.id] }, META);
  const anna = await addOperator(db, { companyId: company.id, name: "Anna", branchIds: [b2.id] }, META);
  const w1 = await addWorkstation(db, { branchId: b1.id, name: "K1", outboxDir: "/srv/k1/out", inboxDir: "/srv/k1/in" }, META);
  const w2 = await addWorkstation(db, { branchId: b2.id, name: "G1", outboxDir: "/srv/g1/out", inboxDir: "/srv/g1/in" }, META);
  const common = { environment: "test", certificateType: "Authentication", mode: "current", name: "E", state: "requested", authMethod: "handoff" } as const;
  await db.insert(enrollments).values([
    { ...common, scopeType: "company", companyId: company.id },
    { ...common, scopeType: "branch", companyId: company.id, branchId: b1.id },
    { ...common, scopeType: "branch", companyId: company.id, branchId: b2.id },
    { ...common, scopeType: "operator", companyId: company.id, operatorId: jan.id },
    { ...common, scopeType: "operator", companyId: company.id, operatorId: anna.id },
    { ...common, scopeType: "company", companyId: other.id },
  ]);
  const principals = {
    super: as([{ role: "super_admin", companyId: null, branchId: null }]),
    company: as([{ role: "company_admin", companyId: company.id, branchId: null }]),
    branch: as([{ role: "branch_admin", companyId: company.id, branchId: b1.id }]),
    auditor: as([{ role: "auditor", companyId: company.id, branchId: null }]),
    otherAdmin: as([{ role: "company_admin", companyId: other.id, branchId: null }]),
    nobody: as([]),
  };
  return { company, other, b1, b2, ob, jan, anna, w1, w2, principals };
}

describeEachDb("access: use cases authorize themselves", (ctx) => {
  it("lists exactly the enrollments each role may read, by the rule canRead states", async () => {
    const { db } = ctx();
    const w = await world(db);
    const all = await listEnrollmentsAs(db, w.principals.super);
    expect(all).toHaveLength(6);
    for (const [name, p] of Object.entries(w.principals)) {
      const expected = [];
      for (const e of all) if (canRead(p, await heldScope(db, e))) expected.push(e.id);
      const listed = (await listEnrollmentsAs(db, p)).map((e) => e.id);
      expect({ name, ids: listed.sort() }).toEqual({ name, ids: expected.sort() });
      for (const e of all) {
        if (expected.includes(e.id)) expect((await getEnrollmentAs(db, p, e.id)).id).toBe(e.id);
        else expect((await rejection(getEnrollmentAs(db, p, e.id))).code).toBe("NOT_FOUND");
      }
    }
    expect(await listEnrollmentsAs(db, w.principals.super, { companyId: "not-a-uuid" })).toEqual([]);
    expect((await listEnrollmentsAs(db, w.principals.super, { companyId: w.other.id })).map((e) => e.companyId)).toEqual([w.other.id]);
  });

  it("lets a branch admin add operators only at its branch, never branches, and never across companies", async () => {
    const { db } = ctx();
    const w = await world(db);
    const branchAdmin = w.principals.branch;
    expect((await rejection(addBranchAs(db, branchAdmin, { companyId: w.company.id, code: "B3", name: "Nowy" }, META))).code).toBe("FORBIDDEN");
    expect((await rejection(addBranchAs(db, branchAdmin, { companyId: w.other.id, code: "B3", name: "Nowy" }, META))).code).toBe("NOT_FOUND");
    expect((await addOperatorAs(db, branchAdmin, { companyId: w.company.id, name: "Ola", branchIds: [w.b1.id] }, META)).branchIds).toEqual([w.b1.id]);
    expect((await rejection(addOperatorAs(db, branchAdmin, { companyId: w.company.id, name: "Ewa" }, META))).code).toBe("FORBIDDEN");
    expect((await rejection(addOperatorAs(db, branchAdmin, { companyId: w.company.id, name: "Ewa", branchIds: [w.b2.id] }, META))).code).toBe("NOT_FOUND");
    const across = await rejection(addOperatorAs(db, w.principals.super, { companyId: w.company.id, name: "Ewa", branchIds: [w.ob.id] }, META));
    expect([across.code, across.violations.map((v) => v.rule)]).toEqual(["VALIDATION", ["branchIds.company"]]);
    expect((await rejection(assignOperatorToBranchAs(db, branchAdmin, { operatorId: w.anna.id, branchId: w.b1.id }, META))).code).toBe("NOT_FOUND");
    expect((await assignOperatorToBranchAs(db, w.principals.company, { operatorId: w.anna.id, branchId: w.b1.id }, META)).added).toBe(true);
    expect((await rejection(assignOperatorToBranchAs(db, w.principals.auditor, { operatorId: w.jan.id, branchId: w.b2.id }, META))).code).toBe("FORBIDDEN");
  });

  it("hides another company's workstation tokens and lets only writers pair and revoke", async () => {
    const { db } = ctx();
    const w = await world(db);
    const { code } = await createPairingCode(db, { workstationId: w.w1.id, actor: "test", now: T0 });
    await pairWorkstation(db, { code, label: "host", now: T0 });
    const [token] = await listWorkstationTokens(db, w.w1.id);
    if (token === undefined) throw new Error("no token");
    const otherAdmin = await rejection(revokeWorkstationTokenAs(db, w.principals.otherAdmin, { tokenId: token.id, actor: "x", now: T0 }));
    const unknown = await rejection(
      revokeWorkstationTokenAs(db, w.principals.otherAdmin, { tokenId: "00000000-0000-4000-8000-000000000000", actor: "x", now: T0 }),
    );
    // The same answer for a token that exists elsewhere and one that does not: nothing to tell them apart.
    expect([otherAdmin.code, otherAdmin.details]).toEqual([unknown.code, { ...unknown.details, id: token.id }]);
    expect((await rejection(revokeWorkstationTokenAs(db, w.principals.auditor, { tokenId: token.id, actor: "x", now: T0 }))).code).toBe("FORBIDDEN");
    expect((await rejection(createPairingCodeAs(db, w.principals.branch, { workstationId: w.w2.id, actor: "x", now: T0 }))).code).toBe("NOT_FOUND");
    expect((await revokeWorkstationTokenAs(db, w.principals.branch, { tokenId: token.id, actor: "x", now: T0 })).revokedAt).not.toBeNull();
  });

  it("moves and resolves certificates only within what the principal may change or read", async () => {
    const { db } = ctx();
    const w = await world(db);
    const cert = await recordCertificate(
      db,
      {
        scope: { type: "branch", branchId: w.b1.id },
        environment: "test",
        mode: "current",
        name: "B1",
        certificateDer: await testCertificate(key, "Authentication", new Date(T0.getTime() - DAY), 30),
        keyFile: key.keyFile,
        source: "imported",
      },
      META,
    );
    const moveTo = (p: Principal, target: { companyId: string; branchId?: string }) => assignCertificateAs(db, p, cert.id, target, META);
    expect((await rejection(moveTo(w.principals.branch, { companyId: w.company.id, branchId: w.b2.id }))).code).toBe("NOT_FOUND");
    const wrongCompany = await rejection(moveTo(w.principals.super, { companyId: w.other.id, branchId: w.b2.id }));
    expect([wrongCompany.code, wrongCompany.violations.map((v) => v.rule)]).toEqual(["VALIDATION", ["scope.sameCompany"]]);
    const resolve = (p: Principal, branchId: string) =>
      resolveCertificateAs(db, p, { companyId: w.company.id, branchId, environment: "test", certificateType: "Authentication", at: T0 });
    expect((await resolve(w.principals.branch, w.b1.id)).found).toBe(true);
    expect((await rejection(resolve(w.principals.branch, w.b2.id))).code).toBe("NOT_FOUND");
    expect((await moveTo(w.principals.company, { companyId: w.company.id, branchId: w.b2.id })).moved).toBe(true);
    expect((await resolve(w.principals.branch, w.b1.id)).found).toBe(false);
  });
});
