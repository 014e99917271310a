import { rejection } from "@ksef-certs/ksef/testing";
import { expect, it } from "vitest";
import { internalIdCheckDigit, nipCheckDigit, peselCheckDigit } from "@ksef-certs/ksef/policies";
import { verifyAuditLog } from "../store/audit.js";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import { auditLog } from "../store/schema.js";
import {
  addBranch,
  addCompany,
  addOperator,
  addWorkstation,
  assignOperatorToBranch,
  findCompanyByNip,
  getBranch,
  getCompany,
  getOperator,
  getWorkstation,
  listBranches,
  listCompanies,
  listOperators,
  listWorkstations,
} from "./organisation.js";

const META = { actor: "admin", at: new Date("2026-03-01T12:00:00Z") };
const NIP = "5265877635";
/** A second valid NIP, built with the check digit rule rather than copied from somewhere. */
const NIP2 = (() => {
  for (let n = 111111110; ; n++) {
    const first9 = String(n);
    const check = nipCheckDigit(first9);
    if (check !== undefined) return `${first9}${check}`;
  }
})();
const internalId = (nip: string, first4: string): string => `${nip}-${first4}${internalIdCheckDigit(nip, first4)}`;
const pesel = (first10: string): string => `${first10}${peselCheckDigit(first10)}`;

describeEachDb("registry: organisation", (ctx) => {
  it("adds and lists companies; NIP normalised, checked, unique", async () => {
    const { db } = ctx();
    const c = await addCompany(db, { nip: "PL 526-587-76-35", name: "  Firma Testowa  " }, META);
    expect(c).toMatchObject({ nip: NIP, name: "Firma Testowa" });
    expect(await getCompany(db, c.id)).toEqual(c);
    expect((await findCompanyByNip(db, "526 587 76 35"))?.id).toBe(c.id);

    const bad = await rejection(addCompany(db, { nip: "5265877636", name: "" }, META));
    expect(bad.code).toBe("VALIDATION");
    expect(bad.violations.map((v) => v.rule).sort()).toEqual(["name.required", "nip.checksum"]);

    const dup = await rejection(addCompany(db, { nip: NIP, name: "Inna" }, META));
    expect(dup.code).toBe("CONFLICT");
    expect(dup.details["existingId"]).toBe(c.id);

    await addCompany(db, { nip: NIP2, name: "Alfa" }, META);
    expect((await listCompanies(db)).map((x) => x.name)).toEqual(["Alfa", "Firma Testowa"]);
    expect((await rejection(getCompany(db, "00000000-0000-4000-8000-000000000000"))).code).toBe("NOT_FOUND");
    expect((await rejection(getCompany(db, "not-a-uuid"))).code).toBe("NOT_FOUND");

    const log = await db.select().from(auditLog);
    expect(log.map((e) => e.action)).toEqual(["company.add", "company.add"]);
    expect(await verifyAuditLog(db)).toMatchObject({ ok: true, entries: 2 });
  });

  it("adds branches: InternalId checked and tied to the company's NIP, code unique per company", async () => {
    const { db } = ctx();
    const c = await addCompany(db, { nip: NIP, name: "Firma" }, META);
    const b1 = await addBranch(db, { companyId: c.id, code: "O1", name: "Oddział Kraków", internalId: internalId(NIP, "0001") }, META);
    expect(b1.internalId).toBe(internalId(NIP, "0001"));
    const b2 = await addBranch(db, { companyId: c.id, code: "O2", name: "Oddział Gdańsk" }, META);
    expect(b2.internalId).toBeNull();

    const foreign = await rejection(addBranch(db, { companyId: c.id, code: "O3", name: "X", internalId: internalId(NIP2, "0001") }, META));
    expect(foreign.code).toBe("VALIDATION");
    expect(foreign.violations.map((v) => v.rule)).toEqual(["internalId.companyNip"]);
    const broken = await rejection(addBranch(db, { companyId: c.id, code: "", name: "", internalId: `${NIP}-00010` }, META));
    expect(broken.violations.map((v) => v.rule).sort()).toEqual(["code.required", "internalId.checksum", "name.required"].sort());

    expect((await rejection(addBranch(db, { companyId: c.id, code: "O1", name: "Again" }, META))).code).toBe("CONFLICT");
    expect((await rejection(addBranch(db, { companyId: c.id, code: "O4", name: "Same id", internalId: internalId(NIP, "0001") }, META))).code).toBe("CONFLICT");
    expect((await rejection(addBranch(db, { companyId: "00000000-0000-4000-8000-000000000000", code: "O1", name: "X" }, META))).code).toBe("NOT_FOUND");

    expect((await listBranches(db, c.id)).map((b) => b.code)).toEqual(["O1", "O2"]);
    expect(await getBranch(db, b2.id)).toEqual(b2);
    expect((await db.select().from(auditLog)).map((e) => e.action)).toEqual(["company.add", "branch.add", "branch.add"]);
  });

  it("adds operators with PESEL/NIP checks and branches of their own company only; assigns branches", async () => {
    const { db } = ctx();
    const c = await addCompany(db, { nip: NIP, name: "Firma" }, META);
    const other = await addCompany(db, { nip: NIP2, name: "Inna" }, META);
    const b1 = await addBranch(db, { companyId: c.id, code: "O1", name: "Kraków" }, META);
    const b2 = await addBranch(db, { companyId: c.id, code: "O2", name: "Gdańsk" }, META);
    const ob = await addBranch(db, { companyId: other.id, code: "X1", name: "Obcy" }, META);

    const jan = await addOperator(db, { companyId: c.id, name: "Jan Kowalski", pesel: "44051401359", branchIds: [b1.id, b1.id] }, META);
    expect(jan).toMatchObject({ pesel: "44051401359", nip: null, branchIds: [b1.id] });

    const bad = await rejection(addOperator(db, { companyId: c.id, name: "Zły", pesel: "44051401358", nip: "123", branchIds: [ob.id, "junk"] }, META));
    expect(bad.code).toBe("VALIDATION");
    expect(bad.violations.map((v) => v.rule).sort()).toEqual(["branchIds.company", "nip.format", "pesel.checksum"]);
    // The sentence is the catalogue's `rule.branchIds.company`; the foreign branches reach it as a parameter.
    expect(bad.violations.find((v) => v.rule === "branchIds.company")?.params?.["branchIds"]).toContain(ob.id);

    expect((await rejection(addOperator(db, { companyId: c.id, name: "Jan again", pesel: "44051401359" }, META))).code).toBe("CONFLICT");
    // The same person may be an operator of another company.
    await addOperator(db, { companyId: other.id, name: "Jan Kowalski", pesel: "44051401359" }, META);
    const anna = await addOperator(db, { companyId: c.id, name: "Anna Nowak", pesel: pesel("8502021234"), nip: NIP2 }, META);
    expect(anna.nip).toBe(NIP2);

    expect(await assignOperatorToBranch(db, { operatorId: anna.id, branchId: b2.id }, META)).toEqual({ added: true });
    expect(await assignOperatorToBranch(db, { operatorId: anna.id, branchId: b2.id }, META)).toEqual({ added: false });
    const cross = await rejection(assignOperatorToBranch(db, { operatorId: anna.id, branchId: ob.id }, META));
    expect(cross.violations.map((v) => v.rule)).toEqual(["branchId.company"]);
    expect((await getOperator(db, anna.id)).branchIds).toEqual([b2.id]);

    expect((await listOperators(db, { companyId: c.id })).map((o) => [o.name, o.branchIds])).toEqual([
      ["Anna Nowak", [b2.id]],
      ["Jan Kowalski", [b1.id]],
    ]);
    expect((await listOperators(db, { branchId: b1.id })).map((o) => o.name)).toEqual(["Jan Kowalski"]);
    expect((await rejection(listOperators(db, {}))).code).toBe("VALIDATION");

    const actions = (await db.select().from(auditLog)).map((e) => e.action);
    expect(actions.filter((a) => a === "operator.add")).toHaveLength(3);
    expect(actions.filter((a) => a === "operator.assignBranch")).toHaveLength(1);
    expect((await verifyAuditLog(db)).ok).toBe(true);
  });

  it("adds workstations with absolute, distinct, non-nested hand-off folders", async () => {
    const { db } = ctx();
    const c = await addCompany(db, { nip: NIP, name: "Firma" }, META);
    const b = await addBranch(db, { companyId: c.id, code: "O1", name: "Kraków" }, META);
    const w = await addWorkstation(db, { branchId: b.id, name: "PC-1", outboxDir: "C:\\KSeF\\do-podpisu", inboxDir: "C:\\KSeF\\podpisane" }, META);
    expect(w).toMatchObject({ name: "PC-1", outboxDir: "C:\\KSeF\\do-podpisu" });
    await addWorkstation(db, { branchId: b.id, name: "Linux", outboxDir: "/srv/ksef/out", inboxDir: "/srv/ksef/in" }, META);

    const rules = async (outboxDir: string, inboxDir: string): Promise<string[]> =>
      (await rejection(addWorkstation(db, { branchId: b.id, name: "X", outboxDir, inboxDir }, META))).violations.map((v) => v.rule);
    expect(await rules("ksef/out", "")).toEqual(["outboxDir.absolute", "inboxDir.required"]);
    expect(await rules("C:\\KSeF\\Out\\", "c:\\ksef\\out")).toEqual(["inboxDir.distinct"]);
    expect(await rules("/srv/ksef/", "/srv/ksef/in")).toEqual(["inboxDir.nested"]);
    expect(await rules("/srv/a", "\\\\server\\share\\in")).toEqual(["inboxDir.sameSystem"]);
    expect((await rejection(addWorkstation(db, { branchId: b.id, name: "PC-1", outboxDir: "/a", inboxDir: "/b" }, META))).code).toBe("CONFLICT");

    expect((await listWorkstations(db, { branchId: b.id })).map((x) => x.name)).toEqual(["Linux", "PC-1"]);
    expect((await listWorkstations(db, { companyId: c.id })).map((x) => x.name)).toEqual(["Linux", "PC-1"]);
    expect(await getWorkstation(db, w.id)).toEqual(w);
    expect((await rejection(getWorkstation(db, "00000000-0000-4000-8000-000000000000"))).code).toBe("NOT_FOUND");
    expect((await db.select().from(auditLog)).map((e) => e.action)).toEqual(["company.add", "branch.add", "workstation.add", "workstation.add"]);
  });
});
