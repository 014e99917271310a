import { rejection } from "@ksef-certs/ksef/testing";
import { sql } from "drizzle-orm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { assignCertificate } from "../registry/assign.js";
import { recordCertificate, type Scope } from "../registry/certificates.js";
import { addBranch, addCompany, addOperator, addWorkstation } from "../registry/organisation.js";
import { DAY, testCertificate, testKey, type TestKey } from "../registry/__fixtures__/certs.js";
import { verifyAuditLog } from "../store/audit.js";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import type { Db } from "../store/db.js";
import { companies, exportDestinations, webSessions, workstationTokens } from "../store/schema.js";
import { getAuditEntryHeaderAs, listAuditEntries, listAuditEntriesAs } from "./audit.js";
import { listVisibleCertificates } from "./certificates.js";
import { LOCAL_SYSTEM_PRINCIPAL } from "./held.js";
import { listExportDestinationsAs } from "./destinations.js";
import { addCompanyAs, visibleOrganisation } from "./organisation.js";
import { hashPassword, verifyPassword } from "./password.js";
import { authorizeEntity, canRead, canWrite, type Principal } from "./rules.js";
import { authenticate, checkCsrf, SESSION_ABSOLUTE_MS, SESSION_IDLE_MS, sessionFromToken, tokenHash } from "./sessions.js";
import { createUser, grantRole, revokeRole } from "./users.js";

const T0 = new Date("2026-03-01T12:00:00Z");
const META = { actor: "test", at: T0 };
const PASSWORD = "Dlugie-haslo-admina-1";
let key: TestKey;
beforeAll(async () => {
  key = await testKey();
});

describe("access: passwords", () => {
  it("hashes with scrypt in a self-describing string and verifies only the right password", async () => {
    const h = await hashPassword("correct horse battery staple");
    expect(h).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword("correct horse battery staple", h)).toBe(true);
    expect(await verifyPassword("correct horse battery stapl", h)).toBe(false);
    expect(await hashPassword("correct horse battery staple")).not.toBe(h);
    expect(await verifyPassword("x", "scrypt$1$1$1$$")).toBe(false);
    expect(await verifyPassword("x", "bcrypt$whatever")).toBe(false);
  });
});

/** A company with two branches, an operator at each, and accounts with every role. */
async function world(db: Db) {
  await db.execute(sql`TRUNCATE users, login_throttle, web_sessions CASCADE`);
  const company = await addCompany(db, { nip: "5265877635", name: "Firma" }, META);
  const other = await addCompany(db, { nip: "7740001454", name: "Inna" }, META);
  const b1 = await addBranch(db, { companyId: company.id, code: "B1", name: "Oddział 1" }, META);
  const b2 = await addBranch(db, { companyId: company.id, code: "B2", name: "Oddział 2" }, META);
  const o1 = await addOperator(db, { companyId: company.id, name: "Jan", branchIds: [b1.id] }, META);
  const o2 = await addOperator(db, { companyId: company.id, name: "Anna", branchIds: [b2.id] }, META);
  const principal = (id: string, login: string, roles: Principal["roles"]): Principal => ({ userId: id, login, displayName: login, locale: "pl", roles });
  return {
    company,
    other,
    b1,
    b2,
    o1,
    o2,
    superAdmin: principal("s", "s", [{ role: "super_admin", companyId: null, branchId: null }]),
    companyAdmin: principal("c", "c", [{ role: "company_admin", companyId: company.id, branchId: null }]),
    branchAdmin: principal("b", "b", [{ role: "branch_admin", companyId: company.id, branchId: b1.id }]),
    auditor: principal("a", "a", [{ role: "auditor", companyId: company.id, branchId: null }]),
  };
}

async function cert(db: Db, scope: Scope, type: "Authentication" | "Offline" = "Authentication", fromDay = -10) {
  const der = await testCertificate(key, type, new Date(T0.getTime() + fromDay * DAY), 365);
  return recordCertificate(
    db,
    { scope, environment: "test", mode: "current", name: "Cert", certificateDer: der, keyFile: key.keyFile, source: "imported" },
    { actor: "test", at: T0 },
  );
}

describeEachDb("access: accounts, sign-in, sessions", (ctx) => {
  beforeEach(async () => {
    await ctx().db.execute(sql`TRUNCATE users, login_throttle, web_sessions CASCADE`);
  });

  it("signs in, stores only hashes, checks CSRF, and ends idle and old sessions", async () => {
    const { db } = ctx();
    const u = await createUser(db, { login: " Admin ", displayName: "Admin", password: PASSWORD, role: { role: "super_admin" } }, META);
    expect(u.login).toBe("admin");
    const s = await authenticate(db, { login: "ADMIN", password: PASSWORD, clientKey: "127.0.0.1", at: T0 });
    expect(s.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await db.select({ tokenHash: webSessions.tokenHash, csrfHash: webSessions.csrfHash }).from(webSessions);
    expect(stored).toEqual([{ tokenHash: tokenHash(s.token), csrfHash: tokenHash(s.csrfToken) }]);
    const active = await sessionFromToken(db, s.token, new Date(T0.getTime() + 60_000));
    expect(active?.principal.roles).toEqual([{ role: "super_admin", companyId: null, branchId: null }]);
    expect(active?.csrfToken).toBe(s.csrfToken);
    expect(checkCsrf(active!.session, s.csrfToken)).toBe(true);
    expect(checkCsrf(active!.session, `${s.csrfToken.slice(0, -1)}x`)).toBe(false);
    expect(checkCsrf(active!.session, undefined)).toBe(false);
    // Idle: nothing for longer than the idle limit.
    expect(await sessionFromToken(db, s.token, new Date(T0.getTime() + 60_000 + SESSION_IDLE_MS))).toBeUndefined();
    // Absolute: kept alive by requests, still ends.
    const s2 = await authenticate(db, { login: "admin", password: PASSWORD, clientKey: "127.0.0.1", at: T0 });
    for (let t = 0; t < SESSION_ABSOLUTE_MS; t += SESSION_IDLE_MS / 2) expect(await sessionFromToken(db, s2.token, new Date(T0.getTime() + t))).toBeDefined();
    expect(await sessionFromToken(db, s2.token, new Date(T0.getTime() + SESSION_ABSOLUTE_MS))).toBeUndefined();
  });

  it("revoking a role ends the account's sessions", async () => {
    const { db } = ctx();
    const company = await addCompany(db, { nip: "5265877635", name: "Firma" }, META);
    const u = await createUser(db, { login: "kasia", displayName: "Kasia", password: PASSWORD, role: { role: "company_admin", companyId: company.id } }, META);
    const s = await authenticate(db, { login: "kasia", password: PASSWORD, clientKey: "x", at: T0 });
    expect((await grantRole(db, { userId: u.id, role: "company_admin", companyId: company.id }, META)).added).toBe(false);
    expect((await revokeRole(db, { userId: u.id, role: "company_admin", companyId: company.id }, META)).removed).toBe(true);
    expect(await sessionFromToken(db, s.token, T0)).toBeUndefined();
    expect((await rejection(grantRole(db, { userId: u.id, role: "branch_admin" }, META))).code).toBe("VALIDATION");
    expect((await verifyAuditLog(db)).ok).toBe(true);
  });
});

describeEachDb("access: rules and the visible certificate list", (ctx) => {
  it("a branch admin sees its branch, its operators and company-scope certificates, never the other branch", async () => {
    const { db } = ctx();
    const w = await world(db);
    const cCompany = await cert(db, { type: "company", companyId: w.company.id });
    const cB1 = await cert(db, { type: "branch", branchId: w.b1.id });
    const cB2 = await cert(db, { type: "branch", branchId: w.b2.id });
    const cO1 = await cert(db, { type: "operator", operatorId: w.o1.id });
    const cO2 = await cert(db, { type: "operator", operatorId: w.o2.id });
    const cOther = await cert(db, { type: "company", companyId: w.other.id });
    const ids = async (p: Principal) => (await listVisibleCertificates(db, p, { at: T0 })).items.map((c) => c.id).sort();
    expect(await ids(w.superAdmin)).toEqual([cCompany, cB1, cB2, cO1, cO2, cOther].map((c) => c.id).sort());
    expect(await ids(w.companyAdmin)).toEqual([cCompany, cB1, cB2, cO1, cO2].map((c) => c.id).sort());
    expect(await ids(w.auditor)).toEqual([cCompany, cB1, cB2, cO1, cO2].map((c) => c.id).sort());
    expect(await ids(w.branchAdmin)).toEqual([cCompany, cB1, cO1].map((c) => c.id).sort());
    for (const hidden of [cB2, cO2, cOther]) {
      expect((await rejection(authorizeEntity(db, w.branchAdmin, "certificate", hidden.id, "read"))).code).toBe("NOT_FOUND");
    }
    expect((await rejection(authorizeEntity(db, w.branchAdmin, "certificate", cCompany.id, "write"))).code).toBe("FORBIDDEN");
    await expect(authorizeEntity(db, w.branchAdmin, "certificate", cO1.id, "write")).resolves.toMatchObject({ kind: "operator" });
    expect((await rejection(authorizeEntity(db, w.auditor, "certificate", cB1.id, "write"))).code).toBe("FORBIDDEN");
    expect(canRead(w.branchAdmin, { kind: "branch", companyId: w.company.id, branchId: w.b2.id })).toBe(false);
    expect(canWrite(w.companyAdmin, { kind: "company", companyId: w.other.id })).toBe(false);
    // A made-up id answers exactly like a hidden one.
    expect((await rejection(authorizeEntity(db, w.branchAdmin, "certificate", "00000000-0000-4000-8000-000000000000", "read"))).message).toBe(
      (await rejection(authorizeEntity(db, w.branchAdmin, "certificate", cB2.id, "read"))).message.replace(cB2.id, "00000000-0000-4000-8000-000000000000"),
    );
  });

  it("pages with a cursor, counts the total, filters and searches", async () => {
    const { db } = ctx();
    const w = await world(db);
    for (let i = 0; i < 3; i++)
      await cert(
        db,
        { type: "operator", operatorId: (await addOperator(db, { companyId: w.company.id, name: `Op ${i}`, branchIds: [w.b1.id] }, META)).id },
        "Authentication",
        -10 - i,
      );
    await cert(db, { type: "branch", branchId: w.b2.id }, "Offline");
    const first = await listVisibleCertificates(db, w.superAdmin, { at: T0, limit: 2 });
    expect(first.total).toBe(4);
    expect(first.totalIsCapped).toBe(false);
    expect(first.items).toHaveLength(2);
    // Past the cap the count stops and says so (the default cap is 10 000).
    expect(await listVisibleCertificates(db, w.superAdmin, { at: T0, limit: 2, countCap: 3 })).toMatchObject({ total: 3, totalIsCapped: true });
    expect(await listVisibleCertificates(db, w.superAdmin, { at: T0, limit: 2, countCap: 4 })).toMatchObject({ total: 4, totalIsCapped: false });
    const second = await listVisibleCertificates(db, w.superAdmin, { at: T0, limit: 2, cursor: first.nextCursor! });
    expect(second.nextCursor).toBeNull();
    expect(new Set([...first.items, ...second.items].map((c) => c.id)).size).toBe(4);
    expect(first.items[0]!.validTo.getTime()).toBeLessThanOrEqual(first.items[1]!.validTo.getTime());
    expect((await listVisibleCertificates(db, w.superAdmin, { at: T0, certificateType: "Offline" })).items.map((c) => c.scope.branchCode)).toEqual(["B2"]);
    expect((await listVisibleCertificates(db, w.branchAdmin, { at: T0, certificateType: "Offline" })).total).toBe(0);
    const serial = second.items[0]!.serialNumber;
    expect((await listVisibleCertificates(db, w.superAdmin, { at: T0, search: serial.slice(2, 10).toLowerCase() })).items.map((c) => c.serialNumber)).toContain(
      serial,
    );
    expect((await rejection(listVisibleCertificates(db, w.superAdmin, { cursor: "bogus" }))).code).toBe("VALIDATION");
  });

  it("lists every page at once, with one meaning per state, for the CLI's local principal and a branch admin alike", async () => {
    const { db } = ctx();
    const w = await world(db);
    const valid = await cert(db, { type: "branch", branchId: w.b1.id });
    const future = await cert(db, { type: "operator", operatorId: w.o1.id }, "Authentication", 5);
    const company = await cert(db, { type: "company", companyId: w.company.id }, "Offline", -20);
    const hidden = await cert(db, { type: "branch", branchId: w.b2.id });
    const later = new Date(T0.getTime() + 350 * DAY);
    type State = "active" | "notYetValid" | "notExpired" | "expired";
    const ids = async (p: Principal, state?: State, at = T0) =>
      (await listVisibleCertificates(db, p, { at, limit: 1, allPages: true, ...(state === undefined ? {} : { state }) })).items.map((c) => c.id).sort();
    const all = await listVisibleCertificates(db, LOCAL_SYSTEM_PRINCIPAL, { at: T0, limit: 1, allPages: true });
    expect(all).toMatchObject({ nextCursor: null, total: 4, totalIsCapped: false });
    const bySoonestExpiry = [company, valid, hidden, future].sort((a, b) => a.validTo.getTime() - b.validTo.getTime() || (a.id < b.id ? -1 : 1));
    expect(all.items.map((c) => c.id)).toEqual(bySoonestExpiry.map((c) => c.id));
    expect(await ids(LOCAL_SYSTEM_PRINCIPAL, "active")).toEqual([valid.id, company.id, hidden.id].sort());
    expect(await ids(LOCAL_SYSTEM_PRINCIPAL, "notYetValid")).toEqual([future.id]);
    expect(await ids(LOCAL_SYSTEM_PRINCIPAL, "notExpired")).toEqual([valid.id, company.id, hidden.id, future.id].sort());
    expect(await ids(LOCAL_SYSTEM_PRINCIPAL, "expired")).toEqual([]);
    expect(await ids(LOCAL_SYSTEM_PRINCIPAL, "expired", later)).toEqual([company.id]);
    expect(await ids(LOCAL_SYSTEM_PRINCIPAL, "notExpired", later)).toEqual([valid.id, hidden.id, future.id].sort());
    // Fetching every page never widens what a role sees.
    expect(await ids(w.branchAdmin)).toEqual([valid.id, future.id, company.id].sort());
    expect(await ids(w.branchAdmin, "notYetValid")).toEqual([future.id]);
  });

  it("only a super-admin adds a company; every other role is refused before anything is written", async () => {
    const { db } = ctx();
    const w = await world(db);
    const globalAuditor: Principal = { ...w.auditor, roles: [{ role: "auditor", companyId: null, branchId: null }] };
    for (const p of [w.companyAdmin, w.branchAdmin, w.auditor, globalAuditor]) {
      expect((await rejection(addCompanyAs(db, p, { nip: "1111111111", name: "Nowa" }, META))).code).toBe("FORBIDDEN");
    }
    expect((await db.select({ id: companies.id }).from(companies)).length).toBe(2);
    await expect(addCompanyAs(db, w.superAdmin, { nip: "1111111111", name: "Nowa" }, META)).resolves.toMatchObject({ nip: "1111111111" });
  });

  it("the organisation tree holds exactly what canRead lets each role read", async () => {
    const { db } = ctx();
    const w = await world(db);
    const o3 = await addOperator(db, { companyId: w.company.id, name: "Ewa", branchIds: [w.b1.id, w.b2.id] }, META);
    await addOperator(db, { companyId: w.other.id, name: "Obcy" }, META);
    const ws1 = await addWorkstation(db, { branchId: w.b1.id, name: "K1", outboxDir: "C:\\ksef\\out", inboxDir: "C:\\ksef\\in" }, META);
    await addWorkstation(db, { branchId: w.b2.id, name: "K2", outboxDir: "C:\\ksef\\out", inboxDir: "C:\\ksef\\in" }, META);
    await db.insert(workstationTokens).values({ workstationId: ws1.id, tokenHash: "h1", label: "pc", createdAt: T0 });
    const globalAuditor: Principal = { ...w.auditor, roles: [{ role: "auditor", companyId: null, branchId: null }] };
    const nobody: Principal = { ...w.auditor, roles: [] };
    const everything = await visibleOrganisation(db, w.superAdmin);
    expect(everything.map((c) => c.name)).toEqual(["Firma", "Inna"]);
    expect(everything[0]!.branches.flatMap((b) => b.workstations.map((x) => [x.name, x.paired]))).toEqual([
      ["K1", true],
      ["K2", false],
    ]);
    expect(everything[0]!.operators.find((o) => o.id === o3.id)?.branchIds.sort()).toEqual([w.b1.id, w.b2.id].sort());
    for (const p of [w.superAdmin, globalAuditor, w.companyAdmin, w.auditor, w.branchAdmin, nobody]) {
      const expected = everything
        .filter((c) => canRead(p, { kind: "company", companyId: c.id }))
        .map((c) => ({
          ...c,
          branches: c.branches.filter((b) => canRead(p, { kind: "branch", companyId: c.id, branchId: b.id })),
          operators: c.operators.filter((o) => canRead(p, { kind: "operator", companyId: c.id, operatorId: o.id, branchIds: o.branchIds })),
        }));
      expect(await visibleOrganisation(db, p)).toEqual(expected);
    }
    const mine = await visibleOrganisation(db, w.branchAdmin);
    expect(mine.map((c) => [c.name, c.branches.map((b) => b.code), c.operators.map((o) => o.name)])).toEqual([["Firma", ["B1"], ["Ewa", "Jan"]]]);
  });

  it("shows an export destination's folder to super-admins only", async () => {
    const { db } = ctx();
    const w = await world(db);
    await db.insert(exportDestinations).values([
      { name: "wspólny", path: "all", companyId: null, createdAt: T0 },
      { name: "firma", path: "firma", companyId: w.company.id, createdAt: T0 },
      { name: "inna", path: "inna", companyId: w.other.id, createdAt: T0 },
    ]);
    expect((await listExportDestinationsAs(db, w.superAdmin)).map((d) => [d.name, d.path])).toEqual([
      ["firma", "firma"],
      ["inna", "inna"],
      ["wspólny", "all"],
    ]);
    for (const p of [w.companyAdmin, w.branchAdmin, w.auditor]) {
      const list = await listExportDestinationsAs(db, p);
      expect(list.map((d) => d.name)).toEqual(["firma", "wspólny"]);
      expect(list.every((d) => !("path" in d))).toBe(true);
    }
  });

  it("reads the audit log only as far as the role reaches", async () => {
    const { db } = ctx();
    const w = await world(db);
    expect((await listAuditEntriesAs(db, w.superAdmin)).entries.length).toBeGreaterThan(0);
    expect((await rejection(listAuditEntriesAs(db, w.companyAdmin))).code).toBe("FORBIDDEN");
    expect((await listAuditEntriesAs(db, w.companyAdmin, { companyId: w.company.id })).entries.length).toBeGreaterThan(0);
    expect((await rejection(listAuditEntriesAs(db, w.companyAdmin, { companyId: w.other.id }))).code).toBe("NOT_FOUND");
    expect((await rejection(listAuditEntriesAs(db, w.branchAdmin, { companyId: w.company.id }))).code).toBe("FORBIDDEN");
    expect((await listAuditEntriesAs(db, w.branchAdmin, { entityId: w.b1.id })).entries.map((e) => e.entityId)).toEqual([w.b1.id]);
    const hidden = await rejection(listAuditEntriesAs(db, w.branchAdmin, { entityId: w.b2.id }));
    const madeUp = await rejection(listAuditEntriesAs(db, w.branchAdmin, { entityId: "00000000-0000-4000-8000-000000000000" }));
    expect([hidden.code, madeUp.code]).toEqual(["NOT_FOUND", "NOT_FOUND"]);
    expect((await rejection(listAuditEntriesAs(db, w.auditor, { entityId: w.other.id }))).code).toBe("NOT_FOUND");
    // The header of one entry, as `audit verify` shows where the chain broke: the verifying roles only.
    const [newest] = (await listAuditEntries(db, { limit: 1 })).entries;
    expect(await getAuditEntryHeaderAs(db, LOCAL_SYSTEM_PRINCIPAL, newest!.seq)).toEqual({
      seq: newest!.seq,
      at: newest!.at,
      actor: newest!.actor,
      action: newest!.action,
      entityType: newest!.entityType,
      entityId: newest!.entityId,
    });
    expect(await getAuditEntryHeaderAs(db, w.auditor, newest!.seq + 1000)).toBeUndefined();
    expect((await rejection(getAuditEntryHeaderAs(db, w.branchAdmin, newest!.seq))).code).toBe("FORBIDDEN");
  });

  it("assigns a certificate within its company under the slot rules, audited; the old slot's queued one takes over", async () => {
    const { db } = ctx();
    const w = await world(db);
    const current = await cert(db, { type: "branch", branchId: w.b1.id });
    const der = await testCertificate(key, "Authentication", new Date(T0.getTime() - 5 * DAY), 400);
    const queued = await recordCertificate(
      db,
      {
        scope: { type: "branch", branchId: w.b1.id },
        environment: "test",
        mode: "queued",
        name: "Next",
        certificateDer: der,
        keyFile: key.keyFile,
        source: "imported",
      },
      META,
    );
    const r = await assignCertificate(db, current.id, { type: "operator", operatorId: w.o1.id }, META);
    expect(r).toMatchObject({ moved: true, from: { type: "branch" }, to: { type: "operator", operatorId: w.o1.id } });
    const b1 = await listVisibleCertificates(db, w.superAdmin, { at: T0, branchId: w.b1.id });
    expect(b1.items.map((c) => [c.id, c.mode])).toEqual([[queued.id, "current"]]);
    // The operator's slot now has a current one: a second current cannot move in.
    const another = await cert(db, { type: "branch", branchId: w.b2.id });
    expect((await rejection(assignCertificate(db, another.id, { type: "operator", operatorId: w.o1.id }, META))).code).toBe("CONFLICT");
    expect((await rejection(assignCertificate(db, another.id, { type: "company", companyId: w.other.id }, META))).code).toBe("VALIDATION");
    expect((await assignCertificate(db, current.id, { type: "operator", operatorId: w.o1.id }, META)).moved).toBe(false);
    const audit = await listAuditEntries(db, { entityId: current.id });
    expect(audit.entries.map((e) => e.action)).toEqual(["certificate.assign", "certificate.record"]);
    expect((await listAuditEntries(db, { companyId: w.other.id })).entries.every((e) => e.entityId === w.other.id || e.action === "certificate.record")).toBe(
      true,
    );
    expect((await verifyAuditLog(db)).ok).toBe(true);
  });
});
